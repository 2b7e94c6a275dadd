package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var boardTitleRE = regexp.MustCompile(`class="post-title" href="/posts/\d+">([^<]*)</a>`)

// boardTitles fetches a board page and returns its posts' titles in order.
func (b *browser) boardTitles(path string) ([]string, *response) {
	b.e.t.Helper()
	res := b.get(path).wantStatus(http.StatusOK)
	titles := []string{}
	for _, m := range boardTitleRE.FindAllSubmatch(res.Body, -1) {
		titles = append(titles, html.UnescapeString(string(m[1])))
	}
	return titles, res
}

// createCategory makes a category through the admin API and returns its id.
func (e *testEnv) createCategory(admin *testUser, name string) int64 {
	e.t.Helper()
	var c struct{ ID int64 }
	e.do("POST", "/api/post/categories/create", admin.Access, map[string]string{"name": name}).wantStatus(http.StatusCreated).decode(&c)
	return c.ID
}

// The board's search, category and tag filters combine exactly as the JSON
// list's do, and the form shows what was asked.
func TestBoardFiltersCombine(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	news, chat := e.createCategory(admin, "news"), e.createCategory(admin, "chat")
	e.writePost(u, map[string]any{"title": "go release", "content": "c", "tags": []string{"Go"}, "category": news})
	e.writePost(u, map[string]any{"title": "rust release", "content": "c", "tags": []string{"rust"}, "category": news})
	e.writePost(u, map[string]any{"title": "go meetup", "content": "c", "tags": []string{"go", "meetup"}, "category": chat})
	e.writePost(u, map[string]any{"title": "lunch", "content": "c"})
	b := e.browser()
	cases := []struct {
		query string
		want  string
	}{
		{"", "lunch|go meetup|rust release|go release"},
		{fmt.Sprint("category=", news), "rust release|go release"},
		{"tag=go", "go meetup|go release"},
		{"tag=GO", "go meetup|go release"},
		{fmt.Sprint("tag=go&category=", chat), "go meetup"},
		{"search=release", "rust release|go release"},
		{"search=release&tag=go", "go release"},
		{fmt.Sprint("search=go&category=", news), "go release"},
		{fmt.Sprint("search=go&tag=meetup&category=", chat), "go meetup"},
		{"search=meetup&tag=rust", ""},
		{"category=999", ""},
		{"tag=nothing", ""},
	}
	for _, c := range cases {
		func() {
			titles, res := b.boardTitles("/?" + c.query)
			if got := strings.Join(titles, "|"); got != c.want {
				t.Fatalf("board %q: %q, want %q", c.query, got, c.want)
			}
			api, _ := e.list("/api/post/?" + c.query)
			if got, want := strings.Join(titles, "|"), strings.Join(api, "|"); got != want {
				t.Fatalf("board %q shows %q, the JSON list %q", c.query, got, want)
			}
			res.wantBody(fmt.Sprintf("%d posts", len(titles)))
			q, _ := url.ParseQuery(c.query)
			if s := q.Get("search"); s != "" {
				res.wantBody(`name="search" type="search" maxlength="200" value="` + s + `"`)
			}
			if tag := q.Get("tag"); tag != "" {
				res.wantBody(`name="tag" type="text" maxlength="30" value="` + tag + `"`)
			}
			if cat := q.Get("category"); cat != "" && cat != "999" {
				res.wantBody(`<option value="` + cat + `" selected>`)
			}
		}()
	}
}

// Every post on the board shows its title, its author (linking to the
// profile), its tags (each linking to the board filtered by it), its
// category, its hits and when it was written.
func TestBoardShowsEachPost(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	cat := e.createCategory(admin, "공지")
	p := e.writePost(u, map[string]any{"title": "Hello & welcome", "content": "c", "tags": []string{"c++", "첫 글"}, "category": cat})
	e.do("GET", fmt.Sprintf("/api/post/detail/%d/", p.ID), "", nil).wantStatus(http.StatusOK)
	e.browser().get("/").wantStatus(http.StatusOK).wantBody(
		fmt.Sprintf(`<a class="post-title" href="/posts/%d">Hello &amp; welcome</a>`, p.ID),
		fmt.Sprintf(`<a href="/users/%d">ann</a>`, u.ID),
		`<a class="tag" href="/?tag=c%2b%2b">#c&#43;&#43;</a>`,
		`<a class="tag" href="/?tag=%ec%b2%ab%20%ea%b8%80">#첫 글</a>`,
		fmt.Sprintf(`<a class="badge" href="/?category=%d">공지</a>`, cat),
		"1 view<", `<time datetime="`, "just now",
		`href="/posts/new"`,
	)
}

// Page links carry every filter, and the pager shows numbers and next/prev.
func TestBoardPagingKeepsFilters(t *testing.T) {
	e := newTestEnvWith(t, Config{PostRate: -1})
	u := e.register("pager@example.com")
	for i := range 45 {
		e.writePost(u, map[string]any{"title": fmt.Sprintf("tagged %02d", i), "content": "word", "tags": []string{"p"}})
	}
	for i := range 3 {
		e.writePost(u, map[string]any{"title": fmt.Sprintf("other %d", i), "content": "word"})
	}
	b := e.browser()
	titles, res := b.boardTitles("/?search=word&tag=p&page=2")
	if len(titles) != 20 || titles[0] != "tagged 24" || titles[19] != "tagged 05" {
		t.Fatalf("page 2 of tag p: %d posts %v", len(titles), titles)
	}
	res.wantBody(
		"45 posts",
		`<a rel="prev" href="/?search=word&amp;tag=p" aria-label="Previous page">`,
		`<a rel="next" href="/?page=3&amp;search=word&amp;tag=p" aria-label="Next page">`,
		`<a href="/?page=3&amp;search=word&amp;tag=p">3</a>`,
		`<span aria-current="page">2</span>`,
	)
	// Following the next link gives the last page, without a next link.
	titles, res = b.boardTitles("/?page=3&search=word&tag=p")
	if len(titles) != 5 || titles[4] != "tagged 00" {
		t.Fatalf("page 3 of tag p: %v", titles)
	}
	res.wantNoBody(`rel="next"`)
	// Past the end: an empty page that says so and leads back.
	titles, res = b.boardTitles("/?tag=p&page=9")
	if len(titles) != 0 {
		t.Fatalf("page 9: %v", titles)
	}
	res.wantBody("There is no page 9: the list has 3 pages.", `<a href="/?tag=p">Go to the first page</a>`)
	// Unfiltered, 48 posts make 3 pages too; no filter in the links.
	_, res = b.boardTitles("/")
	res.wantBody(`<a rel="next" href="/?page=2" aria-label="Next page">`).wantNoBody(`rel="prev"`)
}

// An empty result says what was searched for; an empty board says so.
func TestBoardEmptyStates(t *testing.T) {
	e := newTestEnv(t)
	b := e.browser()
	b.get("/").wantStatus(http.StatusOK).wantBody("No posts yet.").wantNoBody("No posts match.")
	u := e.register("ann@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	cat := e.createCategory(admin, "news")
	e.writePost(u, map[string]any{"title": "lunch", "content": "c"})
	b.get(fmt.Sprintf("/?search=%s&tag=%s&category=%d", url.QueryEscape("<b>zzz</b>"), "none", cat)).wantStatus(http.StatusOK).
		wantBody("No posts match.", "Searched for:", "text “&lt;b&gt;zzz&lt;/b&gt;”", "category “news”", "tag #none", `<a href="/">Show all posts</a>`).
		wantNoBody("<b>zzz", "No posts yet.")
	req, _ := http.NewRequest("GET", e.http.URL+"/?tag=none", nil)
	req.Header.Set("Accept-Language", "ko")
	e.send(req).wantStatus(http.StatusOK).wantBody("조건에 맞는 글이 없습니다.", "태그 #none")
}

// A board address it cannot show is the 400 page, saying which part is wrong.
func TestBoardBadParameters(t *testing.T) {
	e := newTestEnv(t)
	b := e.browser()
	tests := []struct{ name, query, want string }{
		{"page zero", "page=0", "Page: give a whole number from 1 up."},
		{"page word", "page=two", "Page: give a whole number from 1 up."},
		{"category word", "category=news", "Category: choose one from the list."},
		{"search too long", "search=" + strings.Repeat("가", 201), "Search: at most 200 characters"},
		{"search control", "search=a%01b", "Search: at most 200 characters, without control characters."},
		{"tag too long", "tag=" + strings.Repeat("x", 31), "Tag: at most 30 characters"},
		{"two wrong", "page=x&tag=a%00", "Tag: at most 30"},
	}
	for _, tt := range tests {
		b.get("/?"+tt.query).wantStatus(http.StatusBadRequest).
			wantBody("The board cannot show this address", tt.want, `<main id="main"`)
	}
}

// The board's rows are kept between pages, but a row shows the change of
// anything in it at once: the post's title and tags, its author's
// nickname, its category's name, the author's leaving, and the language.
func TestBoardRowsFollowChanges(t *testing.T) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	var cat struct{ ID int64 }
	e.do("POST", "/api/post/categories/create", admin.Access, map[string]string{"name": "Notices"}).wantStatus(201).decode(&cat)
	u := e.register("writer@example.com")
	e.do("PATCH", "/mysite/user/v1/profile/edit/", u.Access, map[string]any{"nickname": "Ann"}).wantStatus(http.StatusOK)
	p := e.writePost(u, map[string]any{"title": "First title", "content": "c", "tags": []string{"old"}, "category": cat.ID})
	b := e.browser()
	b.get("/").wantBody("First title", ">Ann<", "#old", ">Notices<")

	e.do("PATCH", fmt.Sprintf("/api/post/detail/%d/edit/", p.ID), u.Access, map[string]any{"title": "Second title", "tags": []string{"new"}}).
		wantStatus(http.StatusOK)
	b.get("/").wantBody("Second title", "#new").wantNoBody("First title", "#old")

	e.do("PATCH", "/mysite/user/v1/profile/edit/", u.Access, map[string]any{"nickname": "Annie"}).wantStatus(http.StatusOK)
	b.get("/").wantBody(">Annie<").wantNoBody(">Ann<")

	e.do("PATCH", fmt.Sprintf("/api/post/categories/%d", cat.ID), admin.Access, map[string]string{"name": "News"}).wantStatus(http.StatusOK)
	b.get("/").wantBody(">News<").wantNoBody(">Notices<")

	req, _ := http.NewRequest("GET", e.http.URL+"/", nil)
	req.Header.Set("Accept-Language", "ko")
	e.send(req).wantBody(`aria-label="태그"`)

	e.do("POST", "/user/delete/", u.Access, map[string]string{"password": testPassword}).wantStatus(http.StatusNoContent)
	b.get("/").wantBody("Second title", ">deleted user<").wantNoBody(">Annie<")
}
