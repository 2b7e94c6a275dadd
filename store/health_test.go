package store

import (
	"context"
	"slices"
	"sync"
	"testing"
)

func TestFailingHitFlushIsReportedUntilItWorks(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var mu sync.Mutex
	var heard []error
	s.OnBackgroundFailure(func(task string, err error) {
		if task != TaskHitFlush {
			return
		}
		mu.Lock()
		heard = append(heard, err)
		mu.Unlock()
	})
	u := mustCreate(t, s, "a@example.com")
	p, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: "t", Content: "c"})
	if err != nil {
		t.Fatal(err)
	}
	// A trigger makes every hit update fail, as a full disk would.
	if _, err := s.wdb.Exec(`CREATE TRIGGER no_hits BEFORE INSERT ON post_hits BEGIN SELECT RAISE(ABORT, 'no room'); END`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.ViewPost(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.PendingHits(); got != 3 {
		t.Errorf("pending hits %d, want 3", got)
	}
	for range 2 {
		if err := s.FlushHits(ctx); err == nil {
			t.Fatal("flush succeeded despite the trigger")
		}
	}
	if got := s.FailingTasks(); !slices.Equal(got, []string{TaskHitFlush}) {
		t.Errorf("failing tasks %q, want [%s]", got, TaskHitFlush)
	}
	if got := s.PendingHits(); got != 3 {
		t.Errorf("after failed flushes, pending hits %d, want 3 (kept for the next try)", got)
	}
	if _, err := s.wdb.Exec(`DROP TRIGGER no_hits`); err != nil {
		t.Fatal(err)
	}
	if err := s.FlushHits(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.FailingTasks(); len(got) != 0 {
		t.Errorf("failing tasks after a good flush: %q", got)
	}
	if got := s.PendingHits(); got != 0 {
		t.Errorf("pending hits after a good flush: %d", got)
	}
	mu.Lock()
	defer mu.Unlock()
	// The background loop may have failed too, but only the first failure
	// of a run is told, and the recovery once.
	if len(heard) != 2 || heard[0] == nil || heard[1] != nil {
		t.Fatalf("heard %v, want one failure then one recovery", heard)
	}
}

func TestPoolStatsSeeBothPools(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "a@example.com")
	if _, err := s.UserByEmail(context.Background(), "a@example.com"); err != nil {
		t.Fatal(err)
	}
	w, r := s.PoolStats()
	if w.MaxOpenConnections != 1 || r.MaxOpenConnections != 4 {
		t.Errorf("max open: writer %d, readers %d; want 1 and 4", w.MaxOpenConnections, r.MaxOpenConnections)
	}
	if w.OpenConnections < 1 || r.OpenConnections < 1 {
		t.Errorf("open: writer %d, readers %d; want both used", w.OpenConnections, r.OpenConnections)
	}
}
