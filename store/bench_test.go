package store_test

import (
	"context"
	"os"
	"testing"

	"maru/store"
	"maru/store/storetest"
)

const benchPosts = storetest.BoardPosts

// TestMain removes the benchmark database after the run.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// benchStore opens the shared 100,000-post database, built once per run.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	benchPath := storetest.SharedBoard(b)
	st, err := store.Open(context.Background(), benchPath, store.Options{BcryptCost: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func BenchmarkListPosts(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		f    store.PostFilter
		cold bool // each run reads the database, as after a write
	}{
		{"page1_cold", store.PostFilter{Page: 1}, true},
		{"page500_cold", store.PostFilter{Page: 500}, true},
		{"search_common_cold", store.PostFilter{Page: 1, Search: storetest.CommonWord}, true},
		{"search_common_short_cold", store.PostFilter{Page: 1, Search: storetest.CommonShortWord}, true},
		{"search_four_words_cold", store.PostFilter{Page: 1, Search: "garden coffee river 공부"}, true},
		{"tag_page1_cold", store.PostFilter{Page: 1, Tag: "tag7"}, true},
		{"category_page500_cold", store.PostFilter{Page: 500, CategoryID: 1}, true},
		{"page1", store.PostFilter{Page: 1}, false},
		{"page500", store.PostFilter{Page: 500}, false},
		{"search_common", store.PostFilter{Page: 1, Search: storetest.CommonWord}, false},
		{"search_common_short", store.PostFilter{Page: 1, Search: storetest.CommonShortWord}, false},
		{"search_two_words_cold", store.PostFilter{Page: 1, Search: storetest.CommonWord + " " + storetest.CommonShortWord}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if bc.cold {
					store.ForgetCaches(st)
				}
				page, err := st.ListPosts(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Posts) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}

func BenchmarkViewPostParallel(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		id := int64(1)
		for pb.Next() {
			if _, err := st.ViewPost(ctx, id); err != nil {
				b.Fatal(err)
			}
			id = (id+7919)%benchPosts + 1 // spread over many posts, and so over shards
		}
	})
}

func BenchmarkCreatePost3Tags(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	u, err := st.UserByEmail(ctx, "seed@example.com")
	if err != nil {
		b.Fatal(err)
	}
	np := store.NewPost{
		AuthorID: u.ID, Title: "새 글 제목 new post title",
		Content: "본문 내용입니다. A body of a few dozen words, like most posts on a small board: " +
			"meeting notes, a question about the garden, a photo of the river at night.",
		Tags: []string{"모임", "garden", "notes"}, CategoryID: 1,
	}
	for b.Loop() {
		if _, err := st.CreatePost(ctx, np); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreatePost3TagsParallel writes from 16 goroutines at once, as a
// busy board does: posts written at the same moment share a commit.
func BenchmarkCreatePost3TagsParallel(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	u, err := st.UserByEmail(ctx, "seed@example.com")
	if err != nil {
		b.Fatal(err)
	}
	np := store.NewPost{
		AuthorID: u.ID, Title: "새 글 제목 new post title",
		Content: "본문 내용입니다. A body of a few dozen words, like most posts on a small board: " +
			"meeting notes, a question about the garden, a photo of the river at night.",
		Tags: []string{"모임", "garden", "notes"}, CategoryID: 1,
	}
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.CreatePost(ctx, np); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
