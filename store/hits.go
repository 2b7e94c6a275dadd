package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Hits are counted in memory and written to the database in batches: one
// write transaction per detail view would queue every reader behind the
// single writer connection. A view takes only the lock of one of many
// shards, so views of different posts never wait on each other.
//
// The price is durability: a crash or power cut loses the hits of at most
// the last flush interval (one second by default). A clean Close flushes
// everything.
//
// The same entries keep the posts being read, so that a detail view or a
// list page needs no query while its posts are unchanged. A write that
// changes a post drops its body (forgetPosts) before the write is
// acknowledged; the next read loads it anew.

const hitShards = 64

// maxPostBytes bounds the post bodies kept in memory; a shard past its part
// drops the idle ones at the next flush.
const maxPostBytes = 16 << 20

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
	// It changes too when a post body is dropped, so that a read that
	// loaded a body before the change does not keep it.
	epoch uint64
	m     map[int64]*hitEntry
	bytes int      // held by the posts of m
	_     [32]byte // keeps neighbouring shards off one cache line
}

// hitEntry is the live count of one post. While it exists it is the truth:
// the database only ever receives its deltas.
type hitEntry struct {
	total  int64 // every hit, stored or not
	stored int64 // the part of total already in the database
	idle   bool  // no view since the previous flush
	post   *Post // as last loaded (Hit unset); nil until read, or after a change
	size   int   // what post holds, roughly, in bytes
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

// forgetPosts drops the bodies of the posts changes changed, and the
// entries of deleted posts.
func (h *hitCounter) forgetPosts(changes []boardChange) {
	if h == nil {
		return // a store held at an old schema for a test of upgrades
	}
	for _, ch := range changes {
		if ch.all || ch.author != 0 {
			for i := range h.shards {
				h.shards[i].dropPosts(func(p *Post) bool { return ch.all || p.Author.ID == ch.author })
			}
			continue
		}
		sh := h.shard(ch.id)
		sh.mu.Lock()
		if e := sh.m[ch.id]; e != nil {
			sh.drop(e)
			if ch.new == nil {
				delete(sh.m, ch.id)
			}
		}
		sh.epoch++
		sh.mu.Unlock()
	}
}

// dropPosts drops the bodies that match.
func (sh *hitShard) dropPosts(match func(*Post) bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, e := range sh.m {
		if e.post != nil && match(e.post) {
			sh.drop(e)
		}
	}
	sh.epoch++
}

// drop forgets the body of e. sh.mu must be held.
func (sh *hitShard) drop(e *hitEntry) {
	sh.bytes -= e.size
	e.post, e.size = nil, 0
}

// keep makes p the body of e. sh.mu must be held.
func (sh *hitShard) keep(e *hitEntry, p *Post) {
	sh.drop(e)
	c := *p
	c.Hit = 0
	size := len(c.Title) + len(c.Content) + len(c.Author.Email) + len(c.Author.Nickname) + 256
	for _, t := range c.Tags {
		size += len(t) + 16
	}
	e.post, e.size = &c, size
	sh.bytes += size
}

// cached returns a copy of the body of post id with its live hit count,
// counting a view first if view is set. Without a body it returns nil and
// the shard's epoch, to give to loaded.
func (h *hitCounter) cached(id int64, view bool) (*Post, uint64) {
	sh := h.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[id]
	if e == nil || e.post == nil {
		return nil, sh.epoch
	}
	if view {
		e.total++
		e.idle = false
	}
	c := *e.post
	c.Hit = e.total
	return &c, 0
}

// loaded keeps p, just read from the database with the hit count of its
// row, unless the shard's epoch moved from epoch since (a change or a flush
// came between), and returns it with its live hit count, counting a view
// first if view is set. It reports false when it could not tell the count:
// the post had no entry and the epoch moved, so p.Hit may miss a flush.
func (h *hitCounter) loaded(p *Post, epoch uint64, view bool) (*Post, bool) {
	sh := h.shard(p.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	fresh := sh.epoch == epoch
	e := sh.m[p.ID]
	if e == nil {
		if !fresh {
			return nil, false
		}
		e = &hitEntry{total: p.Hit, stored: p.Hit}
		sh.m[p.ID] = e
	}
	if fresh && e.post == nil {
		sh.keep(e, p)
	}
	if view {
		e.total++
		e.idle = false
	}
	c := *p
	c.Hit = e.total
	return &c, true
}

// viewStored counts a view of post id, whose row holds the hit count
// stored, when the post had no entry. Called with the count read under no
// lock it could be stale; readStored reads it under the shard lock, where
// no flush can change the row of a post without an entry.
func (h *hitCounter) viewStored(id int64, readStored func() (int64, error)) (int64, error) {
	sh := h.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[id]
	if e == nil {
		stored, err := readStored()
		if err != nil {
			return 0, err
		}
		e = &hitEntry{total: stored, stored: stored}
		sh.m[id] = e
	}
	e.total++
	e.idle = false
	return e.total, nil
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
	// Written in parts, each a write of its own: a busy board reads
	// thousands of posts a second, and one write for them all held every
	// post written meanwhile for tens of milliseconds.
	var err error
	done := 0
	for done < len(deltas) && err == nil {
		part := deltas[done:min(done+hitFlushPart, len(deltas))]
		if err = s.writeHits(ctx, part); err == nil {
			done += len(part)
		}
	}
	s.noteTask(TaskHitFlush, err)
	deltas = deltas[:done]

	// Only now, with the deltas committed, may entries go: a view that finds
	// no entry reads the row, and the row must already hold every hit.
	// Entries that saw no view for a whole interval are dropped, so memory
	// holds only the posts people are reading; those with a body only when
	// the shard holds more than its part of maxPostBytes.
	applied := make(map[int64]int64, len(deltas))
	for _, d := range deltas {
		applied[d.id] = d.n
	}
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		dropped := false
		full := sh.bytes > maxPostBytes/hitShards
		for id, e := range sh.m {
			e.stored += applied[id]
			if e.idle && e.total == e.stored && (e.post == nil || full) {
				sh.drop(e)
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
	if err != nil {
		return fmt.Errorf("flush hits: %w", err)
	}
	return nil
}

// hitFlushPart is how many posts' hits one write of a flush stores: about
// 5 ms of the writer's time.
const hitFlushPart = 500

// writeHits adds the deltas to the stored counts, in one statement given
// them as a JSON array of [id, n]: a statement a post cost more than the
// counting. A post deleted since has no row to count on and is passed over.
func (s *Store) writeHits(ctx context.Context, deltas []hitDelta) error {
	list := make([]byte, 0, 16*len(deltas))
	list = append(list, '[')
	for i, d := range deltas {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, '[')
		list = strconv.AppendInt(list, d.id, 10)
		list = append(list, ',')
		list = strconv.AppendInt(list, d.n, 10)
		list = append(list, ']')
	}
	list = append(list, ']')
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO post_hits (post_id, hit)
			SELECT p.id, d.value ->> 1 FROM json_each(?) d JOIN posts p ON p.id = d.value ->> 0 WHERE true
			ON CONFLICT (post_id) DO UPDATE SET hit = hit + excluded.hit`, string(list))
		return err
	})
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
