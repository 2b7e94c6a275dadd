package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Every write goes through one queue and commits in groups. The writer
// connection runs with synchronous=FULL, so a commit returns only once the
// WAL is on disk and a power cut cannot take back what a caller was told
// is stored. That flush is most of what a small write costs, and it costs
// about the same for one row as for hundreds: the first caller to find no
// commit under way becomes the leader and runs everything queued by then in
// one transaction, each write in a savepoint of its own, while the others
// wait for their result. A write that fails rolls back to its savepoint and
// fails alone.

// maxBatch bounds how many writes share one transaction, so that a long
// queue does not make its first callers wait for the last.
const maxBatch = 256

// writeQueue is the queue of writes waiting for a commit. Its zero value is
// ready to use.
type writeQueue struct {
	mu      sync.Mutex
	queue   []*pendingWrite
	leading bool // a caller is committing, or has been told to
}

// pendingWrite is one call of write. wake receives exactly one value: false
// once err is set, or true when the caller is to lead the next commit (its
// write is then still queued, first in line).
type pendingWrite struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	err  error
	wake chan bool
	// board lists what the write changed of the board (boardChanged),
	// applied to the caches after the commit and before anyone is told.
	board []boardChange
}

// write runs fn in a write transaction, committing if it returns nil, and
// returns once the commit is durable. fn may share its transaction with
// other writes and may be run more than once (when SQLite gives up a
// transaction under it through no fault of its own), so it must not act
// outside tx except by setting the caller's variables.
//
// A write that changes what the board shows (posts, the names of their
// authors, categories) says so with boardChanged from inside fn.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := &pendingWrite{ctx: ctx, fn: fn, wake: make(chan bool, 1)}
	q := &s.writes
	q.mu.Lock()
	q.queue = append(q.queue, p)
	lead := !q.leading
	q.leading = true
	q.mu.Unlock()
	if !lead {
		if lead = <-p.wake; !lead {
			return p.result()
		}
	}
	// Leading: commit what is queued, which starts with p, then hand the
	// lead to the first caller queued meanwhile, if any, and go back to the
	// caller rather than serving others for as long as the load lasts.
	q.mu.Lock()
	n := min(len(q.queue), maxBatch)
	batch := q.queue[:n:n]
	q.queue = append([]*pendingWrite(nil), q.queue[n:]...)
	q.mu.Unlock()
	s.commitBatch(batch)
	q.mu.Lock()
	if len(q.queue) > 0 {
		q.queue[0].wake <- true
	} else {
		q.leading = false
		s.writerIdle()
	}
	q.mu.Unlock()
	return p.result()
}

// writePanic is a panic of a write's fn, carried to its own caller's
// goroutine so that a bug in one write neither stops the leader nor leaves
// the others waiting.
type writePanic struct{ v any }

func (p *pendingWrite) result() error {
	if wp, ok := p.err.(writePanic); ok {
		panic(wp.v)
	}
	return p.err
}

func (wp writePanic) Error() string { return fmt.Sprint("write panicked: ", wp.v) }

// run runs p's fn on tx, catching a panic as p's error.
func (s *Store) run(p *pendingWrite, tx *sql.Tx) (err error) {
	defer func() {
		s.writing = nil
		if v := recover(); v != nil {
			err = writePanic{v}
		}
	}()
	p.board = p.board[:0]
	s.writing = p
	return p.fn(tx)
}

// commitBatch runs batch and answers every caller in it but the first, the
// leader, which reads its own result.
func (s *Store) commitBatch(batch []*pendingWrite) {
	for todo := batch; len(todo) > 0; {
		todo = s.runBatch(todo)
	}
	for _, p := range batch[1:] {
		p.wake <- false
	}
}

// boardChanged records, from inside a write's fn, what it changes of the
// board. Only a leader runs fns, one at a time, and the queue's lock hands
// the lead over, so s.writing needs no lock of its own.
func (s *Store) boardChanged(ch boardChange) {
	s.writing.board = append(s.writing.board, ch)
}

// runBatch runs todo in one transaction and sets each write's err. It
// returns the writes to run again in a new transaction: those that were in
// the transaction when SQLite gave it up under another's failed statement
// (an interrupted or failed INSERT may roll back the whole transaction).
// Each call settles at least one write, so the caller's loop ends.
func (s *Store) runBatch(todo []*pendingWrite) []*pendingWrite {
	// The batch belongs to several callers: none of their cancellations may
	// end it. Each fn still runs its statements under its caller's context.
	ctx := context.Background()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		for _, p := range todo {
			p.err = fmt.Errorf("begin: %w", err)
		}
		return nil
	}
	defer tx.Rollback()
	// A lone write needs no savepoint: its failure rolls back the
	// transaction, which holds nothing else.
	alone := len(todo) == 1
	var ran []*pendingWrite // ran without error, to be committed
	for i, p := range todo {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			continue
		}
		if !alone {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT w`); err != nil {
				p.err = fmt.Errorf("savepoint: %w", err)
				return append(ran, todo[i+1:]...)
			}
		}
		if err := s.run(p, tx); err != nil {
			p.err = err
			if alone {
				return nil
			}
			if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO w`); rerr != nil {
				// SQLite has ended the transaction: the others run again.
				return append(ran, todo[i+1:]...)
			}
		}
		if !alone {
			if _, err := tx.ExecContext(ctx, `RELEASE w`); err != nil {
				if p.err == nil {
					p.err = fmt.Errorf("release: %w", err)
				}
				return append(ran, todo[i+1:]...)
			}
		}
		if p.err == nil {
			ran = append(ran, p)
		}
	}
	if len(ran) == 0 {
		return nil
	}
	if err := s.indexQueuedPosts(ctx, tx); err != nil {
		for _, p := range ran {
			p.err = err
		}
		return nil
	}
	if err := tx.Commit(); err != nil {
		for _, p := range ran {
			p.err = fmt.Errorf("commit: %w", err)
		}
		return nil
	}
	var changes []boardChange
	for _, p := range ran {
		p.err = nil
		changes = append(changes, p.board...)
	}
	if len(changes) > 0 {
		s.applyBoardChanges(changes)
	}
	return nil
}

// indexQueuedPosts moves the post texts that the triggers queued in this
// transaction into both full-text indexes, one statement each, so that a
// batch adds one segment to each index however many posts it wrote (see
// migration 008).
func (s *Store) indexQueuedPosts(ctx context.Context, tx *sql.Tx) error {
	if s.postStmts.queued == nil {
		return nil // a store held at an old schema for a test of upgrades
	}
	var queued bool
	if err := tx.StmtContext(ctx, s.postStmts.queued).QueryRowContext(ctx).Scan(&queued); err != nil {
		return fmt.Errorf("index posts: %w", err)
	}
	if !queued {
		return nil
	}
	for _, st := range []*sql.Stmt{s.postStmts.indexTri, s.postStmts.indexWord, s.postStmts.unqueue} {
		if _, err := tx.StmtContext(ctx, st).ExecContext(ctx); err != nil {
			return fmt.Errorf("index posts: %w", err)
		}
	}
	s.merge.fresh++ // a new segment in each index (merge.go)
	return nil
}
