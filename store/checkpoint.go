package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The writer connection runs with wal_autocheckpoint(0): left on, SQLite
// copies the WAL back into the database inside whichever commit crosses
// 1,000 pages, and that one write waits tens of milliseconds, which
// averaged a third of the cost of every post. Instead a background loop
// checkpoints once a second on a connection of its own. PASSIVE never waits
// for readers or the writer; it copies what it can now and the rest on a
// later tick.

const checkpointInterval = time.Second

type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
}

func (s *Store) startCheckpoints() error {
	db, err := sql.Open("sqlite", dsn(s.path, false))
	if err != nil {
		return fmt.Errorf("open checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	s.ckpt = &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go s.checkpointEvery(checkpointInterval)
	return nil
}

func (s *Store) checkpointEvery(interval time.Duration) {
	defer close(s.ckpt.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			// A failed checkpoint is retried on the next tick; the WAL
			// only grows meanwhile, and Close checkpoints in full.
			_, err := s.ckpt.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
			s.noteTask(TaskCheckpoint, err)
		case <-s.ckpt.stop:
			return
		}
	}
}

func (s *Store) stopCheckpoints() error {
	close(s.ckpt.stop)
	<-s.ckpt.done
	return s.ckpt.db.Close()
}
