package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func openTestStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{BcryptCost: 4, HitFlushInterval: time.Hour})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func TestHitsSurviveClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	s := openTestStore(t, path)
	u, err := s.CreateUser(ctx, NewUser{Email: "a@example.com", Password: "long enough pw"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: "t", Content: "c", Tags: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := s.ViewPost(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s = openTestStore(t, path)
	defer s.Close()
	got, err := s.PostByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hit != 5 {
		t.Errorf("hit after reopen %d, want 5", got.Hit)
	}
}

func TestCreatedAtNeverGoesBackwards(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "app.db"), Options{BcryptCost: 4, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.CreateUser(ctx, NewUser{Email: "a@example.com", Password: "long enough pw"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: "first", Content: "c"})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(-time.Hour) // the clock steps back
	second, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: "second", Content: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if second.CreatedAt.Before(first.CreatedAt) {
		t.Errorf("second post created %v, before the first at %v", second.CreatedAt, first.CreatedAt)
	}
	page, err := s.ListPosts(ctx, PostFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Posts) != 2 || page.Posts[0].Title != "second" {
		t.Errorf("list order wrong: want second first")
	}
}
