package store

import (
	"database/sql"
	"slices"
	"sync"
)

// Names of the background tasks whose failures FailingTasks reports.
const (
	TaskHitFlush   = "hit_flush"
	TaskCheckpoint = "checkpoint"
	TaskMerge      = "index_merge"
)

// failureReminder is how many failures in a row pass between two reports
// of a task that keeps failing: once a minute for the once-a-second tasks.
const failureReminder = 60

// background records how the store's background tasks fare. Nothing waits
// on them, so without this a failing flush or checkpoint would go unseen
// until the disk filled or hits were lost at a crash.
type background struct {
	mu      sync.Mutex
	failing map[string]int // task → failures in a row
	notify  func(task string, err error)
}

// noteTask records the outcome of one run of task and tells the
// OnBackgroundFailure function when the task starts failing, every
// failureReminder failures while it keeps failing, and when it recovers.
func (s *Store) noteTask(task string, err error) {
	b := &s.bg
	b.mu.Lock()
	n := b.failing[task]
	if err == nil {
		delete(b.failing, task)
	} else {
		if b.failing == nil {
			b.failing = make(map[string]int)
		}
		b.failing[task] = n + 1
	}
	notify := b.notify
	b.mu.Unlock()
	if notify == nil {
		return
	}
	switch {
	case err != nil && n%failureReminder == 0:
		notify(task, err)
	case err == nil && n > 0:
		notify(task, nil)
	}
}

// OnBackgroundFailure makes fn hear of the store's background tasks (the
// hit flush, the WAL checkpoint, the merging of the post indexes): with the
// error when one starts failing and now and then while it keeps failing,
// with nil when it works again.
// The store does not log; its owner does, through fn.
func (s *Store) OnBackgroundFailure(fn func(task string, err error)) {
	s.bg.mu.Lock()
	s.bg.notify = fn
	s.bg.mu.Unlock()
}

// FailingTasks lists, sorted, the background tasks whose last run failed.
func (s *Store) FailingTasks() []string {
	s.bg.mu.Lock()
	defer s.bg.mu.Unlock()
	out := make([]string, 0, len(s.bg.failing))
	for task := range s.bg.failing {
		out = append(out, task)
	}
	slices.Sort(out)
	return out
}

// PoolStats reports the connection pools of the writer and of the readers,
// for monitoring.
func (s *Store) PoolStats() (writer, readers sql.DBStats) {
	return s.wdb.Stats(), s.rdb.Stats()
}

// PendingHits is the number of post views counted in memory and not yet
// written to the database.
func (s *Store) PendingHits() int64 {
	if s.hits == nil {
		return 0
	}
	var n int64
	for i := range s.hits.shards {
		sh := &s.hits.shards[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			n += e.total - e.stored
		}
		sh.mu.Unlock()
	}
	return n
}
