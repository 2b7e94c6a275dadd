package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTestStore(t testing.TB, path string) *Store {
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

func newPostStore(t *testing.T) (*Store, *User) {
	t.Helper()
	s := openTestStore(t, filepath.Join(t.TempDir(), "app.db"))
	t.Cleanup(func() { s.Close() })
	u, err := s.CreateUser(context.Background(), NewUser{Email: "a@example.com", Password: "long enough pw"})
	if err != nil {
		t.Fatal(err)
	}
	return s, u
}

// Views racing flushes that store and drop entries must neither lose nor
// double a hit, and every view must see a count of its own.
func TestHitsRacingFlushes(t *testing.T) {
	ctx := context.Background()
	s, u := newPostStore(t)
	var ids []int64
	for range 3 {
		p, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: "t", Content: "c"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	const views = 300
	seen := make([][]int64, len(ids))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var flusher sync.WaitGroup
	flusher.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				if err := s.FlushHits(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	for i, id := range ids {
		seen[i] = make([]int64, views)
		for j := range views {
			wg.Go(func() {
				p, err := s.ViewPost(ctx, id)
				if err != nil {
					t.Error(err)
					return
				}
				seen[i][j] = p.Hit
			})
		}
	}
	wg.Wait()
	close(stop)
	flusher.Wait()
	for i, id := range ids {
		distinct := map[int64]bool{}
		for _, h := range seen[i] {
			distinct[h] = true
		}
		if len(distinct) != views {
			t.Errorf("post %d: %d distinct counts from %d views", id, len(distinct), views)
		}
		for range 2 { // store, then drop the idle entry
			if err := s.FlushHits(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var stored int64
		if err := s.rdb.QueryRow(`SELECT hit FROM post_hits WHERE post_id = ?`, id).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != views {
			t.Errorf("post %d: stored hit %d, want %d", id, stored, views)
		}
	}
}

// The search indexes take their text from posts by trigger; FTS5's own
// check proves they match the table after every kind of change.
func TestSearchIndexesStayInSync(t *testing.T) {
	ctx := context.Background()
	s, u := newPostStore(t)
	c, err := s.CreateCategory(ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for range 5 {
		p, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: "제목 title", Content: "본문 body", Tags: []string{"태그", "tag"}, CategoryID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	title, tags := "새 제목", []string{"other"}
	if _, err := s.UpdatePost(ctx, ids[0], PostUpdate{Title: &title, Tags: &tags}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePost(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ViewPost(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if err := s.FlushHits(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCategory(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"posts_tri", "posts_word"} {
		if _, err := s.wdb.Exec(`INSERT INTO ` + table + ` (` + table + `, rank) VALUES ('integrity-check', 1)`); err != nil {
			t.Errorf("%s: %v", table, err)
		}
	}
	var n, counted int
	if err := s.rdb.QueryRow(`SELECT n, (SELECT count(*) FROM posts) FROM post_count`).Scan(&n, &counted); err != nil {
		t.Fatal(err)
	}
	if n != counted || n != 4 {
		t.Errorf("post_count %d, rows %d; want 4", n, counted)
	}
}

// No search text makes SQLite fail: every input either lists posts or is
// refused as invalid.
func FuzzSearch(f *testing.F) {
	for _, seed := range []string{`"`, `""`, `a"b`, `*`, `a*`, `^x`, `NEAR(a b)`, `a OR b`, `-x`, `col:x`, `{a b}:c`,
		`%`, `_`, `'`, `\`, "제목 수정", "가", "AND", "(", ")", "a + b", "\x00", "\u200b", "ａｂｃ"} {
		f.Add(seed)
	}
	ctx := context.Background()
	s := openTestStore(f, filepath.Join(f.TempDir(), "app.db"))
	f.Cleanup(func() { s.Close() })
	u, err := s.CreateUser(ctx, NewUser{Email: "a@example.com", Password: "long enough pw"})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: `제목 "quoted" a*b`, Content: "(x OR y) NEAR 100%", Tags: []string{"태그"}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_, err := s.ListPosts(ctx, PostFilter{Search: q, Tag: q})
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("search %q: %v", q, err)
		}
	})
}

// containsLower, which checks the posts a trigram search finds, says what
// lowercasing a copy and looking in it would.
func FuzzContainsLower(f *testing.F) {
	for _, seed := range [][2]string{{"Äpfel und Birnen", "äpf"}, {"GARDEN", "garden"}, {"ga rden", "garden"},
		{"제목 수정1", "수정"}, {"\u0130stanbul", "istanbul"}, {"\u212Aelvin", "kelvin"}, {"ΣΑΣ", "σας"}, {"x", ""}, {"\xff", "\ufffd"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, s, term string) {
		term = strings.ToLower(term)
		if got, want := containsLower(s, term), strings.Contains(strings.ToLower(s), term); got != want {
			t.Errorf("containsLower(%q, %q) = %v, want %v", s, term, got, want)
		}
	})
}

// Both post indexes merge 16 segments at a time (migrations 012 and 014):
// with the default 4, merging was a third of what writing a post cost. The
// store merges them itself, while no write waits (merge.go).
func TestPostIndexesMergePolicy(t *testing.T) {
	s, _ := newPostStore(t)
	for _, table := range []string{"posts_tri", "posts_word"} {
		got := map[string]int{}
		rows, err := s.rdb.Query(`SELECT k, v FROM ` + table + `_config WHERE k IN ('automerge', 'usermerge', 'crisismerge')`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			var v int
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			got[k] = v
		}
		rows.Close()
		if got["automerge"] != 0 || got["usermerge"] != 16 || got["crisismerge"] != 64 {
			t.Errorf("%s: %v, want automerge 0 (merge.go merges), usermerge 16 and crisismerge 64", table, got)
		}
	}
}

// Posts written one commit at a time leave a segment each in both
// indexes; the store merges them once the writer rests, and every post is
// still found afterwards.
func TestIndexesMergeWhileWriterRests(t *testing.T) {
	ctx := context.Background()
	s, u := newPostStore(t)
	const n = 40
	for i := range n {
		if _, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: fmt.Sprintf("post %d", i), Content: fmt.Sprintf("word%dx", i)}); err != nil {
			t.Fatal(err)
		}
	}
	segments := func(table string) int {
		var k int
		if err := s.rdb.QueryRow(`SELECT count(DISTINCT segid) FROM ` + table + `_idx`).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	// Left alone, each index would hold n segments; merging 16 at a time
	// leaves at most 15 on the first level and a few above it.
	for _, table := range []string{"posts_tri", "posts_word"} {
		for deadline := time.Now().Add(10 * time.Second); segments(table) > 16; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: still %d segments after %d posts; the idle writer did not merge them", table, segments(table), n)
			}
		}
	}
	for i := range n {
		word := fmt.Sprintf("word%dx", i)
		page, err := s.ListPosts(ctx, PostFilter{Search: word, Page: 1, PageSize: 20})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Posts) != 1 || page.Posts[0].Content != word {
			t.Errorf("search %q after merging: %d posts", word, len(page.Posts))
		}
	}
	if failing := s.FailingTasks(); len(failing) > 0 {
		t.Errorf("failing tasks: %v", failing)
	}
}

// A flush of more posts than one write stores goes in parts, and stores
// every hit once, in post_hits: a deleted post's hits are passed over.
func TestHitFlushInParts(t *testing.T) {
	ctx := context.Background()
	s, u := newPostStore(t)
	n := 2*hitFlushPart + 7
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				p, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: fmt.Sprint("post ", i), Content: "text"})
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = p.ID
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, id := range ids {
		for range i%3 + 1 {
			if _, err := s.ViewPost(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.DeletePost(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.FlushHits(ctx); err != nil {
		t.Fatal(err)
	}
	var rows, sum int
	if err := s.rdb.QueryRow(`SELECT count(*), COALESCE(sum(hit), 0) FROM post_hits`).Scan(&rows, &sum); err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := 1; i < n; i++ {
		want += i%3 + 1
	}
	if rows != n-1 || sum != want {
		t.Errorf("post_hits: %d rows holding %d hits, want %d and %d", rows, sum, n-1, want)
	}
	if got := s.PendingHits(); got != 0 {
		t.Errorf("%d hits still pending after the flush", got)
	}
}
