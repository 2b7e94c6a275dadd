package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The post page shows the post with its Markdown rendered, its tags, its
// author, category, hits and times, and counts a view as the API does.
func TestPostPage(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	cat := e.createCategory(admin, "news")
	p := e.writePost(u, map[string]any{"title": "Markdown & more", "content": "# Head\n\n**bold** [site](https://example.com)\nnext line",
		"tags": []string{"go", "웹"}, "category": cat})
	b := e.browser()
	path := fmt.Sprintf("/posts/%d", p.ID)
	b.get(path).wantStatus(http.StatusOK).wantBody(
		"<title>Markdown &amp; more · maru</title>",
		"<h1>Markdown &amp; more</h1>",
		"<h2>Head</h2>", "<strong>bold</strong>",
		`<a href="https://example.com" rel="nofollow ugc noopener">site</a><br>`,
		fmt.Sprintf(`<a href="/users/%d" rel="author">ann</a>`, u.ID),
		`<a class="tag" href="/?tag=go">#go</a>`, `<a class="tag" href="/?tag=%ec%9b%b9">#웹</a>`,
		fmt.Sprintf(`<a class="badge" href="/?category=%d">news</a>`, cat),
		"1 view<", `<time datetime="`,
	).wantNoBody("edited", "/edit")
	b.get(path).wantBody("2 views")
	var got testPost
	e.do("GET", fmt.Sprintf("/api/post/detail/%d/", p.ID), "", nil).wantStatus(http.StatusOK).decode(&got)
	if got.Hit != 3 {
		t.Fatalf("after two page views and one API view, hit = %d, want 3", got.Hit)
	}
	// A HEAD is not a reader.
	req, _ := http.NewRequest("HEAD", e.http.URL+path, nil)
	e.send(req).wantStatus(http.StatusOK)
	b.get(path).wantBody("4 views")

	e.do("PATCH", fmt.Sprintf("/api/post/detail/%d/edit/", p.ID), u.Access, map[string]any{"title": "Changed"}).wantStatus(http.StatusOK)
	b.get(path).wantBody("<h1>Changed</h1>", "edited <time")

	for _, bad := range []string{"/posts/999", "/posts/abc", "/posts/0", "/posts/-1"} {
		b.get(bad).wantStatus(http.StatusNotFound).wantBody("There is nothing at this address")
	}
}

// Edit and delete show only to the post's author and to admins.
func TestPostPageButtons(t *testing.T) {
	e := newTestEnv(t)
	author := e.register("author@example.com")
	e.register("other@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	p := e.writePost(author, map[string]any{"title": "mine", "content": "c"})
	edit, del := fmt.Sprintf(`href="/posts/%d/edit"`, p.ID), fmt.Sprintf(`href="/posts/%d/delete"`, p.ID)
	for _, tt := range []struct {
		who  string // "" for a visitor
		sees bool
	}{{"", false}, {"other@example.com", false}, {"author@example.com", true}, {"admin@example.com", true}} {
		b := e.browser()
		if tt.who != "" {
			b.login(tt.who)
		}
		res := b.get(fmt.Sprintf("/posts/%d", p.ID)).wantStatus(http.StatusOK)
		if tt.sees {
			res.wantBody(edit, del)
		} else {
			res.wantNoBody(edit, del)
		}
	}
}

// titleTagsField and the like read what a form shows in a field.
var fieldValueRE = regexp.MustCompile(`name="(title|tags)" type="text"[^>]*value="([^"]*)"`)

func formValues(body []byte) map[string]string {
	out := map[string]string{}
	for _, m := range fieldValueRE.FindAllSubmatch(body, -1) {
		out[string(m[1])] = string(m[2])
	}
	return out
}

func TestWritePostPage(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	cat := e.createCategory(admin, "news")

	// A visitor is sent to log in, and brought back.
	anon := e.browser()
	for _, res := range []*response{anon.get("/posts/new"), anon.post("/posts/new", url.Values{"title": {"x"}, "content": {"y"}})} {
		if loc := res.wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/login?next=%2Fposts%2Fnew" {
			t.Fatalf("visitor sent to %q", loc)
		}
	}

	b := e.browser()
	b.login(u.Email)
	b.get("/posts/new").wantStatus(http.StatusOK).wantBody(
		`<label for="title">`, `<label for="content">`, `<label for="tags">`, `<label for="category">`,
		`<option value="">None</option>`, fmt.Sprintf(`<option value="%d">news</option>`, cat), `action="/posts/new"`)
	b.get(fmt.Sprintf("/posts/new?category=%d", cat)).wantBody(fmt.Sprintf(`<option value="%d" selected>news</option>`, cat))

	good := func(change func(url.Values)) url.Values {
		v := url.Values{"title": {"A title"}, "content": {"Some *content*"}, "tags": {"one, two"}, "category": {fmt.Sprint(cat)}}
		change(v)
		return v
	}
	tags11 := ""
	for i := range 11 {
		tags11 += fmt.Sprintf("tag%d,", i)
	}
	tests := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"blank title", good(func(v url.Values) { v.Set("title", "  ") }), "title", "This field may not be blank."},
		{"long title", good(func(v url.Values) { v.Set("title", strings.Repeat("é", 201)) }), "title", "200"},
		{"blank content", good(func(v url.Values) { v.Set("content", "\r\n") }), "content", "This field may not be blank."},
		{"eleven tags", good(func(v url.Values) { v.Set("tags", tags11) }), "tags", "At most 10 tags."},
		{"long tag", good(func(v url.Values) { v.Set("tags", "ok, "+strings.Repeat("x", 31)) }), "tags", "Each tag may have at most 30 characters."},
		{"unknown category", good(func(v url.Values) { v.Set("category", "999") }), "category", "Choose a category from the list."},
		{"word category", good(func(v url.Values) { v.Set("category", "news") }), "category", "Choose a category from the list."},
	}
	for _, tt := range tests {
		func() {
			res := b.post("/posts/new", tt.form).wantStatus(http.StatusBadRequest)
			// The message sits next to its field, which is marked invalid.
			re := regexp.MustCompile(`id="` + tt.field + `-err"><p class="field-error">[^<]*` + regexp.QuoteMeta(tt.want))
			if !re.Match(res.Body) {
				t.Fatalf("%s: no %q next to %s in %.3000s", tt.name, tt.want, tt.field, res.Body)
			}
			if !regexp.MustCompile(`id="` + tt.field + `"[^>]*aria-invalid="true"`).Match(res.Body) {
				t.Fatalf("%s: field %s not marked invalid", tt.name, tt.field)
			}
			// What was typed is kept.
			vals := formValues(res.Body)
			if vals["tags"] != tt.form.Get("tags") || vals["title"] != tt.form.Get("title") {
				t.Fatalf("%s: form kept %v, want title %q tags %q", tt.name, vals, tt.form.Get("title"), tt.form.Get("tags"))
			}
			res.wantBody(">" + tt.form.Get("content") + "</textarea>")
		}()
	}
	if titles, _ := e.list("/api/post/"); len(titles) != 0 {
		t.Fatalf("refused forms created posts: %v", titles)
	}

	res := b.post("/posts/new", good(func(v url.Values) { v.Set("tags", " one, two,, 세 번째 ,") }))
	loc := res.wantStatus(http.StatusSeeOther).Header.Get("Location")
	if !regexp.MustCompile(`^/posts/\d+$`).MatchString(loc) {
		t.Fatalf("published post went to %q", loc)
	}
	b.follow(res).wantBody("Post published", "<h1>A title</h1>", "<em>content</em>", "#one", "#two", "#세 번째", ">news</a>")
	b.get(loc).wantNoBody("Post published") // once
	var p testPost
	e.do("GET", "/api/post/detail/"+strings.TrimPrefix(loc, "/posts/")+"/", "", nil).decode(&p)
	if p.tagNames() != "one,two,세 번째" || p.Category == nil || *p.Category != cat || p.Author.Email != u.Email {
		t.Fatalf("stored post %+v", p)
	}
	// Without a category.
	res = b.post("/posts/new", good(func(v url.Values) { v.Set("category", ""); v.Set("tags", "") }))
	e.do("GET", "/api/post/detail/"+strings.TrimPrefix(res.wantStatus(http.StatusSeeOther).Header.Get("Location"), "/posts/")+"/", "", nil).decode(&p)
	if p.Category != nil || len(p.Tags) != 0 {
		t.Fatalf("post without category and tags stored as %+v", p)
	}
}

func TestEditPostPage(t *testing.T) {
	e := newTestEnv(t)
	author := e.register("author@example.com")
	e.register("other@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	cat := e.createCategory(admin, "news")
	p := e.writePost(author, map[string]any{"title": "Original", "content": "body", "tags": []string{"a", "b"}, "category": cat})
	path := fmt.Sprintf("/posts/%d/edit", p.ID)
	form := url.Values{"title": {"Hijacked"}, "content": {"x"}, "tags": {""}, "category": {""}}

	anon := e.browser()
	if loc := anon.get(path).wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/login?next="+url.QueryEscape(path) {
		t.Fatalf("visitor sent to %q", loc)
	}
	anon.post(path, form).wantStatus(http.StatusSeeOther)

	other := e.browser()
	other.login("other@example.com")
	other.get(path).wantStatus(http.StatusForbidden).wantBody("You do not have permission").wantNoBody("Original")
	other.post(path, form).wantStatus(http.StatusForbidden).wantBody("You do not have permission")
	e.browser().get("/posts/999/edit").wantStatus(http.StatusSeeOther)
	other.get("/posts/999/edit").wantStatus(http.StatusNotFound)

	b := e.browser()
	b.login(author.Email)
	b.get(path).wantStatus(http.StatusOK).wantBody(
		`value="Original"`, `value="a, b"`, ">body</textarea>", fmt.Sprintf(`<option value="%d" selected>news</option>`, cat),
		`action="`+path+`"`, `>Save</button>`)
	b.post(path, url.Values{"title": {""}, "content": {"kept text"}, "tags": {"x"}}).wantStatus(http.StatusBadRequest).
		wantBody(`id="title-err"><p class="field-error">This field may not be blank.`, ">kept text</textarea>", `value="x"`)

	res := b.post(path, url.Values{"title": {"Edited"}, "content": {"new body"}, "tags": {"c"}, "category": {""}})
	if loc := res.wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != fmt.Sprintf("/posts/%d", p.ID) {
		t.Fatalf("saved edit went to %q", loc)
	}
	b.follow(res).wantBody("Saved", "<h1>Edited</h1>", "new body", "#c", "edited").wantNoBody("#a", ">news</a>")

	adm := e.browser()
	adm.login(admin.Email)
	adm.get(path).wantStatus(http.StatusOK)
	adm.follow(adm.post(path, url.Values{"title": {"Moderated"}, "content": {"ok"}, "category": {fmt.Sprint(cat)}})).
		wantBody("Saved", "<h1>Moderated</h1>", ">news</a>")
	var got testPost
	e.do("GET", fmt.Sprintf("/api/post/detail/%d/", p.ID), "", nil).decode(&got)
	if got.Title != "Moderated" || got.Author.Email != author.Email || len(got.Tags) != 0 {
		t.Fatalf("after the admin's edit: %+v", got)
	}
}

func TestDeletePostPage(t *testing.T) {
	e := newTestEnv(t)
	author := e.register("author@example.com")
	e.register("other@example.com")
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	p := e.writePost(author, map[string]any{"title": "Doomed <b>post</b>", "content": "c"})
	q := e.writePost(author, map[string]any{"title": "Second", "content": "c"})
	path := fmt.Sprintf("/posts/%d/delete", p.ID)

	anon := e.browser()
	anon.get(path).wantStatus(http.StatusSeeOther)
	anon.post(path, nil).wantStatus(http.StatusSeeOther)
	other := e.browser()
	other.login("other@example.com")
	other.get(path).wantStatus(http.StatusForbidden)
	other.post(path, nil).wantStatus(http.StatusForbidden)

	b := e.browser()
	b.login(author.Email)
	b.get(path).wantStatus(http.StatusOK).wantBody("Delete this post?", "“Doomed &lt;b&gt;post&lt;/b&gt;”",
		`<form method="post" action="`+path+`"`, `<button type="submit" class="danger">Delete</button>`)
	// Neither the confirmation nor anyone else's attempt deleted it.
	b.get(fmt.Sprintf("/posts/%d", p.ID)).wantStatus(http.StatusOK)

	res := b.post(path, nil)
	if loc := res.wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/" {
		t.Fatalf("delete went to %q", loc)
	}
	b.follow(res).wantBody("Post deleted").wantNoBody("Doomed")
	b.get(fmt.Sprintf("/posts/%d", p.ID)).wantStatus(http.StatusNotFound)
	b.post(path, nil).wantStatus(http.StatusNotFound)

	adm := e.browser()
	adm.login(admin.Email)
	adm.follow(adm.post(fmt.Sprintf("/posts/%d/delete", q.ID), nil)).wantBody("Post deleted", "No posts yet.")
}

// What anyone writes in a title, content or tags reaches the pages only as
// text: no script, event handler or javascript:/data: link of theirs runs.
func TestPostPagesNeverRunUserMarkup(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("mallory@example.com")
	hostile := []string{
		`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, `<a href="javascript:alert(1)">x</a>`,
		`"><svg onload=alert(1)>`, `javascript:alert(1)`,
	}
	content := strings.Join(hostile, "\n\n") + "\n\n[x](javascript:alert(1)) [y](data:text/html,<script>alert(1)</script>) " +
		"[z](JAVASCRIPT:alert(1)) ![i](javascript:alert(1)) <javascript:alert(1)> [w](vbscript:x) [v](//evil.example)"
	var ids []int64
	for _, h := range hostile {
		p := e.writePost(u, map[string]any{"title": h, "content": content, "tags": []string{h[:min(len(h), 30)], "ok"}})
		ids = append(ids, p.ID)
	}
	b := e.browser()
	b.login(u.Email)
	pages := []string{"/", "/?search=alert", "/?tag=" + url.QueryEscape(`<img src=x onerror=alert(1)>`),
		"/?search=" + url.QueryEscape(`<script>alert(1)</script>`)}
	for _, id := range ids {
		pages = append(pages, fmt.Sprintf("/posts/%d", id), fmt.Sprintf("/posts/%d/edit", id), fmt.Sprintf("/posts/%d/delete", id))
	}
	for _, path := range pages {
		res := b.get(path).wantStatus(http.StatusOK)
		checkPageSafe(t, path, string(res.Body))
	}
	// The hostile text is there, as text.
	b.get(fmt.Sprintf("/posts/%d", ids[0])).wantBody("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")
}

// checkPageSafe fails when a page has markup no template of ours writes:
// a script other than our own files, an event handler, a javascript:,
// vbscript: or data: URL, an image that is not an avatar, or an embed.
func checkPageSafe(t *testing.T, path, page string) {
	t.Helper()
	for _, tag := range startTags(t, page) {
		switch tag.name {
		case "script":
			if !strings.HasPrefix(tag.attrs["src"], "/static/") {
				t.Fatalf("%s: a script not from /static/: %v", path, tag.attrs)
			}
		case "img":
			if tag.attrs["class"] != "avatar" {
				t.Fatalf("%s: an image: %v", path, tag.attrs)
			}
		case "iframe", "object", "embed", "svg", "math", "base", "style":
			t.Fatalf("%s: a <%s>", path, tag.name)
		}
		for name, value := range tag.attrs {
			if strings.HasPrefix(name, "on") {
				t.Fatalf("%s: <%s %s=%q>", path, tag.name, name, value)
			}
			v := strings.ToLower(strings.TrimSpace(value))
			if (name == "href" || name == "src" || name == "action") &&
				(strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:") || strings.HasPrefix(v, "//")) {
				t.Fatalf("%s: <%s %s=%q>", path, tag.name, name, value)
			}
		}
	}
}

// Writing through the page spends the same hourly allowance as the API;
// over it, the form comes back with the text kept and the wait.
func TestWritePostPageThrottled(t *testing.T) {
	e := newTestEnvWith(t, Config{PostRate: 3}) // a burst of one
	u := e.register("fast@example.com")
	b := e.browser()
	b.login(u.Email)
	b.post("/posts/new", url.Values{"title": {""}, "content": {"refused"}}).wantStatus(http.StatusBadRequest)
	b.post("/posts/new", url.Values{"title": {"first"}, "content": {"ok"}}).wantStatus(http.StatusSeeOther)
	res := b.post("/posts/new", url.Values{"title": {"second"}, "content": {"my long text"}, "tags": {"x"}}).
		wantStatus(http.StatusTooManyRequests).wantBody("Please wait", `value="second"`, ">my long text</textarea>")
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	e.do("POST", "/api/post/write", u.Access, map[string]any{"title": "t", "content": "c"}).wantStatus(http.StatusTooManyRequests)
	if titles, _ := e.list("/api/post/"); strings.Join(titles, "|") != "first" {
		t.Fatalf("posts %v, want only the first", titles)
	}
}
