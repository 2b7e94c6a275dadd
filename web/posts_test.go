package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// testPost is a post as a client decodes it.
type testPost struct {
	ID       int64  `json:"id"`
	PostID   int64  `json:"post_id"`
	Title    string `json:"title"`
	Content  string `json:"content"`
	Tags     []struct{ Name string }
	Category *int64 `json:"category"`
	Author   struct {
		ID       int64
		Email    string
		Nickname string
	}
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	Hit       int64  `json:"hit"`
}

func (p testPost) tagNames() string {
	var names []string
	for _, t := range p.Tags {
		names = append(names, t.Name)
	}
	return strings.Join(names, ",")
}

// writePost creates a post through the API.
func (e *testEnv) writePost(u *testUser, body map[string]any) testPost {
	e.t.Helper()
	var p testPost
	e.do("POST", "/api/post/write", u.Access, body).wantStatus(http.StatusCreated).decode(&p)
	return p
}

// list fetches a list page and returns the posts' titles in order.
func (e *testEnv) list(path string) ([]string, *response) {
	e.t.Helper()
	res := e.do("GET", path, "", nil).wantStatus(http.StatusOK)
	var ps []testPost
	res.decode(&ps)
	titles := []string{}
	for _, p := range ps {
		titles = append(titles, p.Title)
	}
	return titles, res
}

var drfTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func TestWritePostShape(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	res := e.do("POST", "/api/post/write/", u.Access, map[string]any{
		"title": "  제목 1  ", "content": "내용",
		"tags": []any{map[string]string{"name": " 태그1 "}, "Go", "go", "GO ", "태그1"},
	}).wantStatus(http.StatusCreated)
	res.wantBody(`"tags":[{"name":"태그1"},{"name":"Go"}]`, `"category":null`, `"hit":0`,
		`"author":{"id":`, `"email":"writer@example.com","nickname":"writer"}`)
	var p testPost
	res.decode(&p)
	if p.ID == 0 || p.PostID != p.ID {
		t.Errorf("id %d, post_id %d: want equal and non-zero", p.ID, p.PostID)
	}
	if p.Title != "제목 1" || p.Content != "내용" {
		t.Errorf("title %q content %q: want trimmed values", p.Title, p.Content)
	}
	if !drfTimeRE.MatchString(p.CreatedAt) || !drfTimeRE.MatchString(p.UpdatedAt) {
		t.Errorf("times %q %q: want DRF format", p.CreatedAt, p.UpdatedAt)
	}
	if p.Author.ID != u.ID {
		t.Errorf("author %d, want %d", p.Author.ID, u.ID)
	}
	e.writePost(u, map[string]any{"title": "t", "content": "line one\r\nline two\rthree"})
	e.do("GET", "/api/post/", "", nil).wantBody(`"content":"line one\nline two\nthree"`)
	if strings.Contains(string(res.Body), "{'name'") {
		t.Errorf("tag names carry the seed's dict text: %s", res.Body)
	}
}

func TestWritePostRefusesBadInput(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	many := make([]string, 11)
	for i := range many {
		many[i] = fmt.Sprint("t", i)
	}
	cases := []struct {
		name  string
		token string
		body  any
		want  int
		parts []string
	}{
		{"anonymous", "", map[string]any{"title": "t", "content": "c"}, 401, []string{msgNotAuthenticated}},
		{"bad token", "nope", map[string]any{"title": "t", "content": "c"}, 401, []string{"token_not_valid"}},
		{"no fields", u.Access, map[string]any{}, 400, []string{`"title":["This field is required."]`, `"content":["This field is required."]`}},
		{"blank title", u.Access, map[string]any{"title": "  ", "content": "c"}, 400, []string{`"title":["This field may not be blank."]`}},
		{"long title", u.Access, map[string]any{"title": strings.Repeat("가", 201), "content": "c"}, 400, []string{`"title":["Ensure this field has no more than 200 characters."]`}},
		{"blank content", u.Access, map[string]any{"title": "t", "content": "\n"}, 400, []string{`"content":["This field may not be blank."]`}},
		{"huge content", u.Access, map[string]any{"title": "t", "content": strings.Repeat("a", 50_001)}, 400, []string{`"content":["Ensure this field has no more than 50000 characters."]`}},
		{"title not a string", u.Access, map[string]any{"title": 5, "content": "c"}, 400, []string{`"title":["Not a valid string."]`}},
		{"eleven tags", u.Access, map[string]any{"title": "t", "content": "c", "tags": many}, 400, []string{`"tags":["Ensure this field has no more than 10 elements."]`}},
		{"long tag", u.Access, map[string]any{"title": "t", "content": "c", "tags": []string{strings.Repeat("x", 31)}}, 400, []string{`Ensure every tag has no more than 30 characters.`}},
		{"blank tag", u.Access, map[string]any{"title": "t", "content": "c", "tags": []string{" "}}, 400, []string{`Tag names may not be blank.`}},
		{"tag with newline", u.Access, map[string]any{"title": "t", "content": "c", "tags": []string{"a\nb"}}, 400, []string{`control characters`}},
		{"tag not a name", u.Access, map[string]any{"title": "t", "content": "c", "tags": []any{3}}, 400, []string{`"tags":["Each tag must be a name or`}},
		{"tags not a list", u.Access, map[string]any{"title": "t", "content": "c", "tags": "x"}, 400, []string{`"tags":["Expected a list of items but got type \"str\"."]`}},
		{"unknown category", u.Access, map[string]any{"title": "t", "content": "c", "category": 99}, 400, []string{`"category":["Invalid pk \"99\" - object does not exist."]`}},
		{"category not an id", u.Access, map[string]any{"title": "t", "content": "c", "category": "x"}, 400, []string{`"category":["Incorrect type. Expected pk value`}},
		{"category zero", u.Access, map[string]any{"title": "t", "content": "c", "category": 0}, 400, []string{`Invalid pk \"0\"`}},
		{"malformed JSON", u.Access, `{"title":`, 400, []string{"JSON parse error"}},
		{"body over 1 MiB", u.Access, map[string]any{"title": "t", "content": strings.Repeat("a", 1<<20)}, 413, []string{msgTooLarge}},
		{"not an object", u.Access, `[1]`, 400, []string{"non_field_errors"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.do("POST", "/api/post/write", c.token, c.body).wantStatus(c.want).wantBody(c.parts...)
		})
	}
	e.t = t
	titles, res := e.list("/api/post/")
	if len(titles) != 0 || res.Header.Get("X-Total-Count") != "0" {
		t.Errorf("refused writes stored posts: %v", titles)
	}

	req, _ := http.NewRequest("POST", e.http.URL+"/api/post/write", strings.NewReader("title=t"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+u.Access)
	e.send(req).wantStatus(http.StatusUnsupportedMediaType)
}

func TestPostRoutesAnswerWithAndWithoutSlash(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	for _, path := range []string{"/api/post/write", "/api/post/write/"} {
		e.do("POST", path, u.Access, map[string]any{"title": "t", "content": "c"}).wantStatus(http.StatusCreated)
	}
	p := e.writePost(u, map[string]any{"title": "t", "content": "c"})
	id := fmt.Sprint(p.ID)
	for _, c := range []struct {
		method, path string
		token        string
		body         any
		want         int
	}{
		{"GET", "/api/post", "", nil, 200},
		{"GET", "/api/post/", "", nil, 200},
		{"POST", "/api/post", "", nil, 200},
		{"POST", "/api/post/", "", map[string]string{"search": "t"}, 200},
		{"GET", "/api/post/detail/" + id, "", nil, 200},
		{"GET", "/api/post/detail/" + id + "/", "", nil, 200},
		{"GET", "/api/post/detail/" + id + "/edit", u.Access, nil, 200},
		{"GET", "/api/post/detail/" + id + "/edit/", u.Access, nil, 200},
		{"POST", "/api/post/detail/" + id + "/edit", u.Access, map[string]string{"title": "a"}, 200},
		{"PUT", "/api/post/detail/" + id + "/edit/", u.Access, map[string]string{"title": "b"}, 200},
		{"PATCH", "/api/post/detail/" + id + "/edit", u.Access, map[string]string{"title": "c"}, 200},
		{"GET", "/api/post/categories", "", nil, 200},
		{"GET", "/api/post/categories/", "", nil, 200},
		{"POST", "/api/post/categories", "", nil, 200},
		{"POST", "/api/post/categories/create", admin.Access, map[string]string{"name": "a"}, 201},
		{"POST", "/api/post/categories/create/", admin.Access, map[string]string{"name": "b"}, 201},
		{"PUT", "/api/post/categories/1", admin.Access, map[string]string{"name": "c"}, 200},
		{"PATCH", "/api/post/categories/1/", admin.Access, map[string]string{"name": "d"}, 200},
		{"DELETE", "/api/post/categories/1/", admin.Access, nil, 204},
		{"DELETE", "/api/post/categories/2", admin.Access, nil, 204},
		{"PUT", "/api/post/detail/" + id + "/", u.Access, nil, 405},
		{"GET", "/api/post/detail/x/", "", nil, 404},
		{"GET", "/api/post/detail/0/", "", nil, 404},
		{"POST", "/api/post/detail/" + id + "/delete", u.Access, nil, 200},
		{"DELETE", "/api/post/detail/" + id + "/", u.Access, nil, 404},
	} {
		e.do(c.method, c.path, c.token, c.body).wantStatus(c.want)
	}
	q := e.writePost(u, map[string]any{"title": "t", "content": "c"})
	e.do("DELETE", fmt.Sprint("/api/post/detail/", q.ID), u.Access, nil).wantStatus(200).wantBody(`{"msg":"Post deleted"}`)
	r := e.writePost(u, map[string]any{"title": "t", "content": "c"})
	e.do("POST", fmt.Sprint("/api/post/detail/", r.ID, "/delete/"), u.Access, nil).wantStatus(200).wantBody(`{"msg":"Post deleted"}`)
	e.do("GET", fmt.Sprint("/api/post/detail/", r.ID, "/"), "", nil).wantStatus(404).wantBody(`{"detail":"Not found."}`)
}

func TestEditAndDeleteNeedTheAuthorOrAnAdmin(t *testing.T) {
	e := newTestEnv(t)
	author := e.register("author@example.com")
	other := e.register("other@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	p := e.writePost(author, map[string]any{"title": "t", "content": "c", "tags": []string{"a"}})
	edit := fmt.Sprint("/api/post/detail/", p.ID, "/edit/")
	del := fmt.Sprint("/api/post/detail/", p.ID, "/delete/")
	cases := []struct {
		name, method, path, token string
		want                      int
	}{
		{"anonymous edit form", "GET", edit, "", 401},
		{"anonymous edit", "PATCH", edit, "", 401},
		{"anonymous delete", "POST", del, "", 401},
		{"other edit form", "GET", edit, other.Access, 403},
		{"other edit", "POST", edit, other.Access, 403},
		{"other put", "PUT", edit, other.Access, 403},
		{"other delete", "POST", del, other.Access, 403},
		{"other DELETE", "DELETE", fmt.Sprint("/api/post/detail/", p.ID, "/"), other.Access, 403},
		{"missing edit", "PATCH", "/api/post/detail/999/edit/", author.Access, 404},
		{"missing delete", "POST", "/api/post/detail/999/delete/", author.Access, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.do(c.method, c.path, c.token, map[string]string{"title": "hacked"}).wantStatus(c.want)
		})
	}
	e.t = t
	e.do("GET", edit, other.Access, nil).wantBody(msgForbidden)
	var got testPost
	e.do("GET", edit, author.Access, nil).wantStatus(200).decode(&got)
	if got.Title != "t" || got.tagNames() != "a" {
		t.Fatalf("after refused edits: title %q tags %q, want t and a", got.Title, got.tagNames())
	}
	e.do("PATCH", edit, admin.Access, map[string]string{"title": "by admin"}).wantStatus(200).wantBody(`"title":"by admin"`)
	e.do("POST", del, admin.Access, nil).wantStatus(200)
	e.do("GET", edit, author.Access, nil).wantStatus(404)
}

func TestEditIsPartial(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("author@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	var cat struct{ ID int64 }
	e.do("POST", "/api/post/categories/create", admin.Access, map[string]string{"name": "free"}).wantStatus(201).decode(&cat)
	p := e.writePost(u, map[string]any{"title": "t", "content": "c", "tags": []string{"a", "b"}, "category": cat.ID})
	edit := fmt.Sprint("/api/post/detail/", p.ID, "/edit/")
	steps := []struct {
		body                 any
		title, content, tags string
		category             *int64
		status               int
		wantBody             string
	}{
		{map[string]any{"title": "new"}, "new", "c", "a,b", &cat.ID, 200, ""},
		{map[string]any{"content": "body", "tags": []any{map[string]string{"name": "x"}}}, "new", "body", "x", &cat.ID, 200, ""},
		{map[string]any{"category": nil}, "new", "body", "x", nil, 200, ""},
		{map[string]any{"category": cat.ID, "tags": []string{}}, "new", "body", "", &cat.ID, 200, ""},
		{map[string]any{"title": ""}, "new", "body", "", &cat.ID, 400, `"title":["This field may not be blank."]`},
		{map[string]any{"category": 77}, "new", "body", "", &cat.ID, 400, `Invalid pk \"77\"`},
	}
	for i, st := range steps {
		res := e.do("PATCH", edit, u.Access, st.body).wantStatus(st.status).wantBody(st.wantBody)
		var got testPost
		e.do("GET", edit, u.Access, nil).wantStatus(200).decode(&got)
		if got.Title != st.title || got.Content != st.content || got.tagNames() != st.tags {
			t.Errorf("step %d: %q %q %q, want %q %q %q (%s)", i, got.Title, got.Content, got.tagNames(), st.title, st.content, st.tags, res.Body)
		}
		if (got.Category == nil) != (st.category == nil) || (got.Category != nil && *got.Category != *st.category) {
			t.Errorf("step %d: category %v, want %v", i, got.Category, st.category)
		}
		if got.UpdatedAt < got.CreatedAt {
			t.Errorf("step %d: updated_at %s before created_at %s", i, got.UpdatedAt, got.CreatedAt)
		}
	}
}

func TestListPaging(t *testing.T) {
	e := newTestEnvWith(t, Config{PostRate: -1}) // 25 posts at once: no per-user limit
	u := e.register("writer@example.com")
	for i := 1; i <= 25; i++ {
		e.writePost(u, map[string]any{"title": fmt.Sprint("post ", i), "content": "c"})
	}
	titles, res := e.list("/api/post/")
	if len(titles) != 20 || titles[0] != "post 25" || titles[19] != "post 6" {
		t.Fatalf("page 1: %v, want post 25 .. post 6", titles)
	}
	if got := res.Header.Get("X-Total-Count"); got != "25" {
		t.Errorf("X-Total-Count %q, want 25", got)
	}
	if link := res.Header.Get("Link"); !strings.Contains(link, `page=2&page_size=20>; rel="next"`) || strings.Contains(link, "prev") {
		t.Errorf("page 1 Link %q: want next only", link)
	}
	titles, res = e.list("/api/post/?page=2")
	if len(titles) != 5 || titles[4] != "post 1" {
		t.Errorf("page 2: %v, want post 5 .. post 1", titles)
	}
	if link := res.Header.Get("Link"); !strings.Contains(link, `page=1&page_size=20>; rel="prev"`) || strings.Contains(link, "next") {
		t.Errorf("page 2 Link %q: want prev only", link)
	}
	titles, res = e.list("/api/post/?page=3")
	if len(titles) != 0 || string(res.Body) != "[]\n" {
		t.Errorf("page past the end: %s, want []", res.Body)
	}
	titles, _ = e.list("/api/post/?page=9223372036854775807&page_size=100")
	if len(titles) != 0 {
		t.Errorf("huge page: %v, want []", titles)
	}
	titles, res = e.list("/api/post/?page_size=1000")
	if len(titles) != 25 || !strings.Contains(res.Header.Get("Link"), "") {
		t.Errorf("page_size 1000 gives %d posts, want all 25 (clamped to 100)", len(titles))
	}
	titles, res = e.list("/api/post/?page_size=10&page=2")
	if len(titles) != 10 || titles[0] != "post 15" || !strings.Contains(res.Header.Get("Link"), `page=3&page_size=10>; rel="next"`) {
		t.Errorf("page_size 10 page 2: %v; Link %q", titles, res.Header.Get("Link"))
	}
	for _, bad := range []struct{ query, body string }{
		{"page=0", `"page":["Ensure this value is greater than or equal to 1."]`},
		{"page=-1", `"page":["Ensure this value is greater than or equal to 1."]`},
		{"page=abc", `"page":["A valid integer is required."]`},
		{"page_size=0", `"page_size":["Ensure this value`},
		{"page_size=x", `"page_size":["A valid integer is required."]`},
		{"category=x", `"category":["A valid integer is required."]`},
		{"search=" + strings.Repeat("a", 201), `"search":["Ensure this field has no more than 200 characters."]`},
	} {
		e.do("GET", "/api/post/?"+bad.query, "", nil).wantStatus(400).wantBody(bad.body)
	}
	e.do("POST", "/api/post/", "", `{"page": "x"}`).wantStatus(400).wantBody(`"page":["A valid integer is required."]`)
	e.do("POST", "/api/post/", "", `{"page": 2}`).wantStatus(200).wantBody(`"title":"post 5"`)
}

func TestListFiltersCombine(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	var news, chat struct{ ID int64 }
	e.do("POST", "/api/post/categories/create", admin.Access, map[string]string{"name": "news"}).wantStatus(201).decode(&news)
	e.do("POST", "/api/post/categories/create", admin.Access, map[string]string{"name": "chat"}).wantStatus(201).decode(&chat)
	e.writePost(u, map[string]any{"title": "go release", "content": "c", "tags": []string{"Go"}, "category": news.ID})
	e.writePost(u, map[string]any{"title": "rust release", "content": "c", "tags": []string{"rust"}, "category": news.ID})
	e.writePost(u, map[string]any{"title": "go meetup", "content": "c", "tags": []string{"go", "meetup"}, "category": chat.ID})
	e.writePost(u, map[string]any{"title": "lunch", "content": "c"})
	cases := []struct {
		query string
		want  string
	}{
		{"", "lunch|go meetup|rust release|go release"},
		{fmt.Sprint("category=", news.ID), "rust release|go release"},
		{"tag=go", "go meetup|go release"},
		{"tag=GO", "go meetup|go release"},
		{fmt.Sprint("tag=go&category=", chat.ID), "go meetup"},
		{"search=release", "rust release|go release"},
		{"search=release&tag=go", "go release"},
		{fmt.Sprint("search=go&category=", news.ID), "go release"},
		{"search=meetup&tag=rust", ""},
		{"category=999", ""},
		{"category=0", ""},
		{"category=-3", ""},
		{"tag=" + strings.Repeat("x", 31), ""},
		{"tag=nothing", ""},
	}
	for _, c := range cases {
		titles, res := e.list("/api/post/?" + c.query)
		if got := strings.Join(titles, "|"); got != c.want {
			t.Errorf("%s: %q, want %q", c.query, got, c.want)
		}
		if got, want := res.Header.Get("X-Total-Count"), fmt.Sprint(len(titles)); got != want {
			t.Errorf("%s: X-Total-Count %s, want %s", c.query, got, want)
		}
	}
	e.do("POST", "/api/post/", "", map[string]any{"search": "release", "category": news.ID}).wantStatus(200).
		wantBody(`"title":"rust release"`, `"title":"go release"`)
	e.do("POST", "/api/post/?search=lunch", "", map[string]any{"search": "release"}).wantStatus(200).wantBody(`"title":"lunch"`)
}

func TestSearch(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	e.writePost(u, map[string]any{"title": "제목 수정1", "content": "내용 수정", "tags": []string{"태그1 수정"}})
	e.writePost(u, map[string]any{"title": "New Post Title", "content": "Some body text"})
	e.writePost(u, map[string]any{"title": "할인 100% 행사", "content": "snake_case and \"quoted\" words: a*b (x OR y) NEAR/2 -z ^w {col}"})
	e.writePost(u, map[string]any{"title": "나는 학생이다", "content": "가 나 다", "tags": []string{"일상"}})
	// Every trigram of "garden" is here, but not the word: not in the
	// content, not across the title and the content, not across tags.
	e.writePost(u, map[string]any{"title": "Äpfel und Birnen gar", "content": "den gar-ard-rde-den", "tags": []string{"gar", "den"}})
	cases := []struct {
		search string
		want   string
	}{
		{"제목", "제목 수정1"},
		{"수정", "제목 수정1"},
		{"수정1", "제목 수정1"},
		{"title", "New Post Title"},
		{"TITLE", "New Post Title"},
		{"itl", "New Post Title"},
		{"new title", "New Post Title"},
		{"body title", "New Post Title"},
		{"title 제목", ""},
		{"태그1", "제목 수정1"},
		{"일상", "나는 학생이다"},
		{"학생", "나는 학생이다"},
		{"나", "나는 학생이다"},
		{"가", "나는 학생이다"},
		{"Po", "New Post Title"},
		{"100%", "할인 100% 행사"},
		{"0%", ""},
		{"%", ""},
		{"_", ""},
		{"e_c", "할인 100% 행사"},
		{`"quoted"`, "할인 100% 행사"},
		{`"quo`, "할인 100% 행사"},
		{`"`, ""},
		{`""""`, ""},
		{"a*b", "할인 100% 행사"},
		{"(x OR y)", "할인 100% 행사"},
		{"(x", "할인 100% 행사"},
		{"NEAR/2", "할인 100% 행사"},
		{"-z", "할인 100% 행사"},
		{"^w", "할인 100% 행사"},
		{"{col}", "할인 100% 행사"},
		{"title:", ""},
		{"OR", "할인 100% 행사"},
		{"AND NOT", ""},
		{"NOT", ""},
		{"snake", "할인 100% 행사"},
		{"*", ""},
		{"'", ""},
		{"no such words", ""},
		{"garden", ""},
		{"gar", "Äpfel und Birnen gar"},
		{"rde-den", "Äpfel und Birnen gar"},
		{"äpfel", "Äpfel und Birnen gar"},
		{"ÄPFEL birnen", "Äpfel und Birnen gar"},
		{"   ", "Äpfel und Birnen gar|나는 학생이다|할인 100% 행사|New Post Title|제목 수정1"},
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "POST"} {
			var res *response
			if method == "GET" {
				res = e.do("GET", "/api/post/?search="+urlQueryEscape(c.search), "", nil)
			} else {
				res = e.do("POST", "/api/post/", "", map[string]string{"search": c.search})
			}
			res.wantStatus(http.StatusOK)
			var ps []testPost
			res.decode(&ps)
			var titles []string
			for _, p := range ps {
				titles = append(titles, p.Title)
			}
			if got := strings.Join(titles, "|"); got != c.want {
				t.Errorf("%s search %q: %q, want %q", method, c.search, got, c.want)
			}
		}
	}
	e.do("GET", "/api/post/?search="+urlQueryEscape(strings.Repeat("a ", 11)), "", nil).wantStatus(200)
	e.do("GET", "/api/post/?search="+urlQueryEscape("a b c d e f g h i j k"), "", nil).wantStatus(400).
		wantBody(`"search":["Use at most 10 words."]`)
	e.do("GET", "/api/post/?search=%01x", "", nil).wantStatus(400).wantBody(`"search"`)
}

func TestSearchFollowsEditsAndDeletes(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	p := e.writePost(u, map[string]any{"title": "apple pie", "content": "sweet", "tags": []string{"baking"}})
	found := func(search string) bool {
		titles, _ := e.list("/api/post/?search=" + urlQueryEscape(search))
		return len(titles) == 1
	}
	edit := fmt.Sprint("/api/post/detail/", p.ID, "/edit/")
	e.do("PATCH", edit, u.Access, map[string]any{"title": "banana bread", "tags": []string{"새 태그"}}).wantStatus(200)
	for search, want := range map[string]bool{"apple": false, "banana": true, "sweet": true, "baking": false, "태그": true, "새": true} {
		if found(search) != want {
			t.Errorf("after edit, %q found %v, want %v", search, !want, want)
		}
	}
	titles, _ := e.list("/api/post/?tag=baking")
	if len(titles) != 0 {
		t.Errorf("tag filter still finds a removed tag")
	}
	// A hit flush rewrites the row; the index must not double or lose it.
	e.do("GET", fmt.Sprint("/api/post/detail/", p.ID), "", nil).wantStatus(200)
	if err := e.store.FlushHits(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !found("banana") {
		t.Errorf("post lost from the index after a hit flush")
	}
	e.do("DELETE", fmt.Sprint("/api/post/detail/", p.ID), u.Access, nil).wantStatus(200)
	for _, search := range []string{"banana", "sweet", "태그", "새", "ba"} {
		if found(search) {
			t.Errorf("deleted post found by %q", search)
		}
	}
	if _, res := e.list("/api/post/"); res.Header.Get("X-Total-Count") != "0" {
		t.Errorf("X-Total-Count %s after delete, want 0", res.Header.Get("X-Total-Count"))
	}
}

func TestHits(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	p := e.writePost(u, map[string]any{"title": "t", "content": "c"})
	detail := fmt.Sprint("/api/post/detail/", p.ID, "/")
	hit := func(method, path, token string) int64 {
		t.Helper()
		var got testPost
		e.do(method, path, token, nil).wantStatus(200).decode(&got)
		return got.Hit
	}
	if h := hit("GET", detail, ""); h != 1 {
		t.Fatalf("first view: hit %d, want 1", h)
	}
	if h := hit("GET", detail, u.Access); h != 2 {
		t.Fatalf("second view: hit %d, want 2", h)
	}
	if h := hit("GET", detail+"edit/", u.Access); h != 2 {
		t.Fatalf("edit form: hit %d, want 2 (no hit counted)", h)
	}
	e.do("HEAD", detail, "", nil).wantStatus(200)
	if h := hit("GET", detail+"edit/", u.Access); h != 2 {
		t.Fatalf("after HEAD: hit %d, want 2 (no hit counted)", h)
	}

	const n = 200
	var wg sync.WaitGroup
	seen := make([]int64, n)
	for i := range n {
		wg.Go(func() {
			res, err := e.http.Client().Get(e.http.URL + detail)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var got testPost
			if err := decodeBody(res, &got); err != nil {
				t.Error(err)
			}
			seen[i] = got.Hit
		})
		if i == n/2 {
			// A flush in the middle must neither lose nor double any hit.
			wg.Go(func() {
				if err := e.store.FlushHits(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	distinct := map[int64]bool{}
	for _, h := range seen {
		distinct[h] = true
	}
	if len(distinct) != n {
		t.Errorf("200 concurrent views returned %d distinct counts, want 200", len(distinct))
	}
	if h := hit("GET", detail+"edit/", u.Access); h != 2+n {
		t.Fatalf("after %d concurrent views: hit %d, want %d", n, h, 2+n)
	}
	titles, res := e.list("/api/post/")
	if len(titles) != 1 || !strings.Contains(string(res.Body), fmt.Sprintf(`"hit":%d`, 2+n)) {
		t.Errorf("list shows %s, want hit %d", res.Body, 2+n)
	}
	// Twice: the first flush stores the count, the second drops the idle
	// entry, so the next view must start from the stored row.
	for range 2 {
		if err := e.store.FlushHits(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if h := hit("GET", detail, ""); h != 3+n {
		t.Fatalf("after flushes: hit %d, want %d", h, 3+n)
	}
	e.do("GET", "/api/post/detail/999/", "", nil).wantStatus(404)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func decodeBody(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }

// The list and the post JSON are cached; every change must show at once.
func TestListStaysFresh(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	p := e.writePost(u, map[string]any{"title": "first", "content": "c", "tags": []string{"a"}})
	q := e.writePost(u, map[string]any{"title": "second", "content": "c"})
	want := func(step string, parts ...string) {
		t.Helper()
		for _, path := range []string{"/api/post/", "/api/post/?search=c&tag=a"} {
			e.do("GET", path, "", nil).wantStatus(200) // warm the cache first
		}
		e.do("GET", "/api/post/?tag=a", "", nil).wantStatus(200).wantBody(parts...)
	}
	want("start", `"title":"first"`, `"hit":0`, `"nickname":"writer"`)

	e.do("GET", fmt.Sprint("/api/post/detail/", p.ID), "", nil).wantStatus(200)
	e.do("GET", fmt.Sprint("/api/post/detail/", p.ID), "", nil).wantStatus(200)
	want("views", `"hit":2`)
	if err := e.store.FlushHits(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.store.FlushHits(context.Background()); err != nil {
		t.Fatal(err)
	}
	want("after flushes", `"hit":2`)

	e.do("PATCH", fmt.Sprint("/api/post/detail/", p.ID, "/edit/"), u.Access, map[string]any{"title": "renamed"}).wantStatus(200)
	want("edit", `"title":"renamed"`, `"hit":2`)

	e.do("PATCH", "/mysite/user/v1/profile/edit/", u.Access, map[string]any{"nickname": "new name"}).wantStatus(200)
	want("nickname", `"nickname":"new name"`)

	e.do("DELETE", fmt.Sprint("/api/post/detail/", q.ID), u.Access, nil).wantStatus(200)
	titles, res := e.list("/api/post/")
	if strings.Join(titles, "|") != "renamed" || res.Header.Get("X-Total-Count") != "1" {
		t.Errorf("after delete: %v, total %s; want [renamed], 1", titles, res.Header.Get("X-Total-Count"))
	}
}
