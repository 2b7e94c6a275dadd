package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"maru/store"
)

// BenchmarkBoardPage serves the board with 20 posts, and beside it, in the
// same run, the JSON list of the same posts: the page must cost at most 5
// ms of server time and give at least half the list's requests a second.
//
//	go test ./web -run '^$' -bench BoardPage -benchtime 3s
//
// "serial" sends one request at a time over real HTTP (ns/op is the whole
// round trip, an upper bound of the server's time); "parallel" keeps four
// clients busy, so 1e9/(ns/op) is the requests a second.
func BenchmarkBoardPage(b *testing.B) {
	e := startEnv(b, envOptions{quiet: true, cfg: Config{PostRate: -1}})
	ctx := context.Background()
	u, err := e.store.CreateUser(ctx, store.NewUser{Email: "bench@example.com", Password: testPassword, Nickname: "벤치"})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := e.store.CreateCategory(ctx, "공지")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 25 {
		_, err := e.store.CreatePost(ctx, store.NewPost{
			AuthorID: u.ID, CategoryID: cat.ID * int64(i%2),
			Title:   fmt.Sprintf("게시글 %d: a title of a usual length for the board", i),
			Content: strings.Repeat("Some **Markdown** content, 본문입니다. ", 20),
			Tags:    []string{"tag", fmt.Sprintf("태그%d", i%5), "maru"},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, target := range []struct{ name, path, want string }{
		{"page", "/", `class="post-title"`},
		{"json", "/api/post/", `"post_id"`},
	} {
		res, err := http.Get(e.http.URL + target.path)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || strings.Count(string(body), target.want) != 20 {
			b.Fatalf("%s answered %d with %d posts, want 20", target.path, res.StatusCode, strings.Count(string(body), target.want))
		}
		b.Run(target.name+"/serial", func(b *testing.B) {
			client := &http.Client{}
			defer client.CloseIdleConnections()
			for b.Loop() {
				res, err := client.Get(e.http.URL + target.path)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || int(n) != len(body) {
					b.Fatalf("status %d, %d bytes; want 200, %d", res.StatusCode, n, len(body))
				}
			}
		})
		b.Run(target.name+"/parallel", func(b *testing.B) { getParallel(b, e.http.URL+target.path, len(body)) })
	}
}
