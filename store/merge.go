package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Each commit that writes posts adds a segment to both full-text indexes,
// and a search reads every segment, so segments must be merged. FTS5's
// automerge did it inside the commit whose pages crossed its work unit, 64
// pages per level of the index at once, and the posts in that batch waited
// 20-40 ms for it. Migration 014 turns automerge off; instead the store
// merges in short steps, each a write of its own, whenever a commit leaves
// no write waiting. A post that arrives meanwhile waits for one step at
// most. A writer kept busy without a pause never runs a step, and then
// FTS5's crisismerge (64 segments on a level) still bounds what a search
// reads.

const (
	// mergeStepPages is how many index pages one merge step writes in
	// each index: a few milliseconds of work.
	mergeStepPages = 32
	// mergeFanIn is the indexes' usermerge: a step merges a level once it
	// holds this many segments, and not before. So after a step that found
	// nothing to merge, the next waits for as many new segments: stepping
	// after every post would cost a lone writer a second commit per post.
	mergeFanIn = 16
)

// merger runs the merge steps. Its zero value is off: a store held at an
// old schema and an operator command's store never merge.
type merger struct {
	on bool
	// Read and written by the leader of the writes only (write.go):
	// merging is true while steps find segments to merge; fresh counts
	// the segments added to each index since one found none.
	merging bool
	fresh   int
	idle    chan struct{} // a commit left no write waiting, and a step is due
	stop    chan struct{}
	done    chan struct{}
}

func (s *Store) startMerging() {
	m := &s.merge
	m.on = true
	m.merging = true // a stop may have left segments to merge
	m.idle = make(chan struct{}, 1)
	m.stop = make(chan struct{})
	m.done = make(chan struct{})
	m.idle <- struct{}{}
	go s.mergeWhenIdle()
}

// writerIdle is called by the leader of the writes when its commit left no
// write queued.
func (s *Store) writerIdle() {
	m := &s.merge
	if !m.on || !m.merging && m.fresh < mergeFanIn {
		return
	}
	select {
	case m.idle <- struct{}{}:
	default: // a step is already due
	}
}

func (s *Store) mergeWhenIdle() {
	m := &s.merge
	defer close(m.done)
	for {
		select {
		case <-m.idle:
		case <-m.stop:
			return
		}
		// The step is a write: a post that comes now shares its commit,
		// and the step's own commit signals idle again if there is more.
		err := s.write(context.Background(), func(tx *sql.Tx) error {
			merged, err := mergeStep(tx)
			if err == nil {
				m.merging = merged
				if !merged {
					m.fresh = 0
				}
			}
			return err
		})
		s.noteTask(TaskMerge, err)
	}
}

func (s *Store) stopMerging() {
	if s.merge.on {
		close(s.merge.stop)
		<-s.merge.done
	}
}

// mergeStep merges up to mergeStepPages pages in each post index and
// reports whether either had segments to merge. A 'merge' with a positive
// page count merges only on a level holding usermerge (16) segments, or
// goes on with a merge begun earlier; it changes at least two rows when it
// did work (the FTS5 documentation's test).
func mergeStep(tx *sql.Tx) (merged bool, err error) {
	ctx := context.Background()
	for _, table := range []string{"posts_tri", "posts_word"} {
		var before, after int64
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
			return false, fmt.Errorf("merge %s: %w", table, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+table+`, rank) VALUES ('merge', ?)`, mergeStepPages); err != nil {
			return false, fmt.Errorf("merge %s: %w", table, err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
			return false, fmt.Errorf("merge %s: %w", table, err)
		}
		merged = merged || after-before >= 2
	}
	return merged, nil
}
