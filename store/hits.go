package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Hits are counted in memory and written to the database in batches: one
// write transaction per detail view would queue every reader behind the
// single writer connection. A view takes only the lock of one of many
// shards, so views of different posts never wait on each other.
//
// The price is durability: a crash loses the hits of at most the last flush
// interval (one second by default). A clean Close flushes everything.

const hitShards = 64

// DefaultHitFlushInterval is how often buffered hits are written when
// Options.HitFlushInterval is zero.
const DefaultHitFlushInterval = time.Second

type hitCounter struct {
	shards  [hitShards]hitShard
	flushMu sync.Mutex // one flush at a time, so deltas are never written twice
	stop    chan struct{}
	done    chan struct{}
}

type hitShard struct {
	mu sync.Mutex
	// epoch changes whenever entries are dropped. A view that read a post's
	// stored count before a drop may hold a count that misses the last
	// flush, and must read it again.
	epoch uint64
	m     map[int64]*hitEntry
	_     [40]byte // keeps neighbouring shards off one cache line
}

// hitEntry is the live count of one post. While it exists it is the truth:
// the database only ever receives its deltas.
type hitEntry struct {
	total  int64 // every hit, stored or not
	stored int64 // the part of total already in the database
	idle   bool  // no view since the previous flush
}

func newHitCounter() *hitCounter {
	h := &hitCounter{stop: make(chan struct{}), done: make(chan struct{})}
	for i := range h.shards {
		h.shards[i].m = make(map[int64]*hitEntry)
	}
	return h
}

func (h *hitCounter) shard(id int64) *hitShard { return &h.shards[uint64(id)%hitShards] }

// current is the live count of post id, given the count its row held.
// An entry dropped after the row was read was idle for a whole flush
// interval first, so a stale stored count here is practically impossible;
// views, which must be exact, use the epoch check instead.
func (h *hitCounter) current(id, stored int64) int64 {
	sh := h.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.m[id]; e != nil {
		return e.total
	}
	return stored
}

// forget drops the entry of a deleted post.
func (h *hitCounter) forget(id int64) {
	sh := h.shard(id)
	sh.mu.Lock()
	if _, ok := sh.m[id]; ok {
		delete(sh.m, id)
		sh.epoch++
	}
	sh.mu.Unlock()
}

// ViewPost loads a post and counts one hit on it. The returned Hit includes
// this view and every view before it, flushed or not.
func (s *Store) ViewPost(ctx context.Context, id int64) (*Post, error) {
	sh := s.hits.shard(id)
	sh.mu.Lock()
	epoch := sh.epoch
	sh.mu.Unlock()

	p, err := s.postByIDRaw(ctx, id)
	if err != nil {
		return nil, err
	}

	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[id]
	if e == nil {
		stored := p.Hit
		if sh.epoch != epoch {
			// Read under the shard lock: no flush can change this post's
			// row while we hold it, since its entry does not exist.
			err := s.rdb.QueryRowContext(ctx, `SELECT hit FROM posts WHERE id = ?`, id).Scan(&stored)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, ErrNotFound
			}
			if err != nil {
				return nil, fmt.Errorf("post %d hit: %w", id, err)
			}
		}
		e = &hitEntry{total: stored, stored: stored}
		sh.m[id] = e
	}
	e.total++
	e.idle = false
	p.Hit = e.total
	return p, nil
}

type hitDelta struct{ id, n int64 }

// FlushHits writes the hits counted in memory to the database. It runs by
// itself every flush interval and at Close; tests and tools may call it to
// see stored counts at once. On error the hits stay in memory for the next try.
func (s *Store) FlushHits(ctx context.Context) error {
	h := s.hits
	h.flushMu.Lock()
	defer h.flushMu.Unlock()

	var deltas []hitDelta
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for id, e := range sh.m {
			if e.total > e.stored {
				deltas = append(deltas, hitDelta{id, e.total - e.stored})
			}
		}
		sh.mu.Unlock()
	}
	if len(deltas) > 0 {
		err := s.write(ctx, func(tx *sql.Tx) error {
			stmt, err := tx.PrepareContext(ctx, `UPDATE posts SET hit = hit + ? WHERE id = ?`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, d := range deltas {
				if _, err := stmt.ExecContext(ctx, d.n, d.id); err != nil {
					return err
				}
			}
			return nil
		})
		s.noteTask(TaskHitFlush, err)
		if err != nil {
			return fmt.Errorf("flush hits: %w", err)
		}
	} else {
		s.noteTask(TaskHitFlush, nil)
	}

	// Only now, with the deltas committed, may entries go: a view that finds
	// no entry reads the row, and the row must already hold every hit.
	// Entries that saw no view for a whole interval are dropped, so memory
	// holds only the posts people are reading.
	applied := make(map[int64]int64, len(deltas))
	for _, d := range deltas {
		applied[d.id] = d.n
	}
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		dropped := false
		for id, e := range sh.m {
			e.stored += applied[id]
			if e.idle && e.total == e.stored {
				delete(sh.m, id)
				dropped = true
				continue
			}
			e.idle = true
		}
		if dropped {
			sh.epoch++
		}
		sh.mu.Unlock()
	}
	return nil
}

// flushHitsEvery flushes until stopHits is called, then flushes once more.
func (s *Store) flushHitsEvery(interval time.Duration) {
	defer close(s.hits.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			// A failed flush keeps its hits for the next tick; FailingTasks
			// and the OnBackgroundFailure function report it meanwhile.
			_ = s.FlushHits(context.Background())
		case <-s.hits.stop:
			return
		}
	}
}

// stopHits ends the flush loop and writes what is still in memory.
func (s *Store) stopHits() error {
	close(s.hits.stop)
	<-s.hits.done
	return s.FlushHits(context.Background())
}
