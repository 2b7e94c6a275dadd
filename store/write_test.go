package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
)

// A write that panics panics in its own caller, and the writer goes on:
// the next write commits.
func TestWritePanicStaysWithItsCaller(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want the write's own panic", v)
			}
		}()
		s.write(ctx, func(tx *sql.Tx) error { panic("boom") })
		t.Error("write returned after its fn panicked")
	}()
	if _, err := s.CreateCategory(ctx, "after"); err != nil {
		t.Fatalf("write after a panicking one: %v", err)
	}
}

// A write whose caller has gone changes nothing.
func TestCancelledWriteChangesNothing(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.CreateCategory(ctx, "never"); !errors.Is(err, context.Canceled) {
		t.Fatalf("write with a cancelled context: %v, want context.Canceled", err)
	}
	cs, err := s.Categories(context.Background())
	if err != nil || len(cs) != 0 {
		t.Errorf("categories after a cancelled write: %v, %v; want none", cs, err)
	}
}

// However many posts one transaction writes, each full-text index gets one
// new segment: merging a segment per post cost more than the posts.
func TestOneIndexSegmentPerCommit(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "seg@example.com")
	// With merging off, the segments written are the segments there are.
	for _, q := range []string{
		`INSERT INTO posts_tri (posts_tri, rank) VALUES ('automerge', 0)`,
		`INSERT INTO posts_tri (posts_tri, rank) VALUES ('crisismerge', 1000)`,
	} {
		if _, err := s.wdb.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	segments := func() int {
		var n int
		if err := s.rdb.QueryRow(`SELECT count(DISTINCT segid) FROM posts_tri_idx`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := segments()
	err := s.write(ctx, func(tx *sql.Tx) error {
		for i := range 5 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO posts (author_id, title, content, created_at, updated_at) VALUES (?, ?, 'segment words', 1, 1)`,
				u.ID, fmt.Sprint("post ", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := segments() - before; got != 1 {
		t.Errorf("5 posts in one commit added %d segments, want 1", got)
	}
	page, err := s.ListPosts(ctx, PostFilter{Search: "segment"})
	if err != nil || page.Total != 5 {
		t.Errorf("search finds %d of the 5 posts (%v)", page.Total, err)
	}
}
