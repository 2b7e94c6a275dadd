package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"maru/store"
)

func TestStaticAssets(t *testing.T) {
	e := newTestEnv(t)
	u, err := e.server.assets.url("site.css")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.http.URL+u, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res := e.send(req).wantStatus(http.StatusOK)
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Fatalf("hashed asset Cache-Control = %q, want immutable", cc)
	}
	if ce := res.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", ce)
	}
	zr, err := gzip.NewReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Contains(plain, []byte("prefers-color-scheme: dark")) {
		t.Fatalf("gzip body does not unpack to the stylesheet")
	}
	// Without gzip, the plain bytes; an old hash is not cached forever.
	res = e.do("GET", "/static/site.css?v=old", "", nil).wantStatus(http.StatusOK).wantBody("prefers-color-scheme")
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Fatalf("stale-hash Cache-Control = %q, want no-cache", cc)
	}
	req, _ = http.NewRequest("GET", e.http.URL+u, nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	e.send(req).wantStatus(http.StatusNotModified)
	e.do("GET", "/static/", "", nil).wantStatus(http.StatusNotFound)
	if _, err := e.server.assets.url("missing.css"); err == nil {
		t.Fatal("url of a missing asset gave no error")
	}
}

// All CSS and JavaScript together stay small: a Pi on a slow uplink serves
// them to every new visitor.
func TestAssetBudget(t *testing.T) {
	total := 0
	fs.WalkDir(testStatic, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(path, ".css") || strings.HasSuffix(path, ".js")) {
			b, _ := fs.ReadFile(testStatic, path)
			total += len(b)
		}
		return err
	})
	if total == 0 || total > 50<<10 {
		t.Fatalf("CSS and JS add up to %d bytes, want 1..%d", total, 50<<10)
	}
}

// Every key a template or handler uses is in the catalog, in both languages.
func TestCatalog(t *testing.T) {
	for k, v := range catalog {
		if strings.TrimSpace(v.en) == "" || strings.TrimSpace(v.ko) == "" {
			t.Errorf("catalog key %q lacks a language: %+v", k, v)
		}
		if strings.Count(v.en, "%") != strings.Count(v.ko, "%") {
			t.Errorf("catalog key %q: the languages take different arguments: %+v", k, v)
		}
	}
	used := map[string]bool{}
	keyRE := regexp.MustCompile(`\.T "([^"]+)"|\$\.T "([^"]+)"|T "([^"]+)"`)
	fs.WalkDir(templateFiles, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFiles, path)
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]+m[2]+m[3]] = true
		}
		return nil
	})
	var missing []string
	for k := range used {
		if _, ok := catalog[k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("templates use keys the catalog lacks: %v", missing)
	}
	if len(used) < 10 {
		t.Fatalf("found only %d keys in the templates; is the pattern right?", len(used))
	}
}

func TestAcceptLanguage(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", "en"},
		{"ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"},
		{"en-US,en;q=0.9,ko;q=0.8", "en"},
		{"fr-FR, ko;q=0.5", "ko"},
		{"fr", "en"},
		{"en;q=0.2, ko;q=0.8", "ko"},
	}
	for _, tt := range tests {
		if got := acceptLanguage(tt.header); got != tt.want {
			t.Errorf("acceptLanguage(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

// Pages speak the browser's language until the switch picks one, which is
// remembered.
func TestLanguageSwitch(t *testing.T) {
	e := newTestEnv(t)
	req, _ := http.NewRequest("GET", e.http.URL+"/login", nil)
	req.Header.Set("Accept-Language", "ko-KR,ko;q=0.9")
	e.send(req).wantStatus(http.StatusOK).wantBody(`<html lang="ko">`, "로그인")

	b := e.browser()
	b.get("/login").wantBody(`<html lang="en">`, "Log in")
	res := b.post("/lang", url.Values{"lang": {"ko"}, "next": {"/login"}}).wantStatus(http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/login" {
		t.Fatalf("switch went to %q, want /login", loc)
	}
	b.get("/login").wantBody(`<html lang="ko">`, "비밀번호")
	b.post("/lang", url.Values{"lang": {"xx"}}).wantStatus(http.StatusBadRequest)
	res = b.post("/lang", url.Values{"lang": {"en"}, "next": {"https://evil.example/"}})
	if loc := res.Header.Get("Location"); loc != "/" {
		t.Fatalf("switch with a foreign next went to %q, want /", loc)
	}
}

// Page routes answer their errors with a page in the site's look; API
// routes keep DRF's JSON.
func TestErrorPagesByRouteKind(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name, method, path string
		status             int
		html               bool
		want               string
	}{
		{"page 404", "GET", "/no/such/page", 404, true, "There is nothing at this address"},
		{"page 405", "DELETE", "/login", 405, true, "does not take that kind of request"},
		{"api 404", "GET", "/api/nothing/", 404, false, `{"detail":"Not found."}`},
		{"api 405", "DELETE", "/user/login/", 405, false, `{"detail":"Method \"DELETE\" not allowed."}`},
		{"page bad number", "GET", "/?page=zero", 400, true, "Page: give a whole number from 1 up."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.http.URL+tt.path, nil)
			res := e.send(req).wantStatus(tt.status).wantBody(tt.want)
			ct := res.Header.Get("Content-Type")
			if tt.html {
				if !strings.HasPrefix(ct, "text/html") {
					t.Fatalf("Content-Type %q, want HTML", ct)
				}
				res.wantBody(`<link rel="stylesheet"`, `<main id="main"`)
				if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
					t.Fatalf("page CSP %q lacks script-src 'self'", csp)
				}
			} else if ct != "application/json" {
				t.Fatalf("Content-Type %q, want JSON", ct)
			}
		})
	}
}

// A panic in a page handler is the 500 page: the stack goes to the log,
// nothing of it to the reader.
func TestPagePanicIs500Page(t *testing.T) {
	e := newTestEnv(t)
	h := e.server.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/posts/1", nil))
	body := rec.Body.String()
	if rec.Code != 500 || !strings.Contains(body, "could not finish this request") || strings.Contains(body, "secret") {
		t.Fatalf("got %d %q, want the generic 500 page", rec.Code, body)
	}
}

// A form posted from another site is refused with a page that says why,
// and changes nothing.
func TestCrossOriginFormRefused(t *testing.T) {
	e := newTestEnv(t)
	req, _ := http.NewRequest("POST", e.http.URL+"/register", strings.NewReader(url.Values{
		"email": {"victim@example.com"}, "password": {testPassword}, "password2": {testPassword},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	e.send(req).wantStatus(http.StatusForbidden).wantBody("sent from another site")
	e.do("POST", "/user/login/", "", map[string]string{"email": "victim@example.com", "password": testPassword}).
		wantStatus(http.StatusBadRequest)
}

func TestLocalPath(t *testing.T) {
	tests := []struct{ next, want string }{
		{"/posts/3?x=1", "/posts/3?x=1"},
		{"/", "/"},
		{"", "/"},
		{"//evil.example/", "/"},
		{"https://evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"posts/3", "/"},
		{"/a\r\nSet-Cookie: x=1", "/"},
	}
	for _, tt := range tests {
		if got := localPath(tt.next, "/"); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

func TestLoginPage(t *testing.T) {
	e := newTestEnv(t)
	e.register("ann@example.com")
	b := e.browser()

	// A page that needs a login sends there, and back afterwards.
	b.get("/login?next=/no/such/page").wantStatus(http.StatusOK).wantBody(`name="next" value="/no/such/page"`)

	// Wrong password: the form comes back with the email kept, the
	// password not, and the message.
	res := b.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"wrong password"}, "next": {"/x"}})
	res.wantStatus(http.StatusBadRequest).wantBody(`value="ann@example.com"`, "Wrong email or password.", `value="/x"`).
		wantNoBody("wrong password")
	res = b.post("/login", url.Values{"email": {""}, "password": {""}})
	res.wantStatus(http.StatusBadRequest).wantBody(`aria-invalid="true"`, "This field is required.")

	res = b.post("/login", url.Values{"email": {"ann@example.com"}, "password": {testPassword}, "next": {"//evil.example"}})
	if loc := res.wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/" {
		t.Fatalf("login redirected to %q, want /", loc)
	}
	b.get("/").wantBody("You are logged in.", `action="/logout"`)
	b.get("/").wantNoBody("You are logged in.") // the notice shows once

	// Logging in again on a logged-in browser just goes on.
	if loc := b.get("/login?next=/friends").wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/friends" {
		t.Fatalf("logged-in /login went to %q", loc)
	}
	b.follow(b.post("/logout", nil)).wantBody("You are logged out.", `href="/login"`)
}

// The session token changes at login, so one planted before (session
// fixation) is worth nothing.
func TestLoginRenewsSessionToken(t *testing.T) {
	e := newTestEnv(t)
	e.register("fix@example.com")
	sm := e.server.sessions
	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	sm.Put(ctx, "planted", true)
	planted, _, err := sm.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	u, _ := url.Parse(b.url)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sm.Cookie.Name, Value: planted, Path: "/"}})
	b.login("fix@example.com")
	if after := sessionToken(b); after == "" || after == planted {
		t.Fatalf("session token %q after login; planted %q: want a new one", after, planted)
	}
	attacker := e.browser()
	attacker.c.Jar.SetCookies(u, []*http.Cookie{{Name: sm.Cookie.Name, Value: planted, Path: "/"}})
	attacker.get("/").wantStatus(http.StatusOK).wantNoBody(`action="/logout"`)
}

func sessionToken(b *browser) string {
	u, _ := url.Parse(b.url)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == b.e.server.sessions.Cookie.Name {
			return c.Value
		}
	}
	return ""
}

func TestRegisterPage(t *testing.T) {
	e := newTestEnv(t)
	b := e.browser()
	b.get("/register").wantStatus(http.StatusOK).wantBody(`name="password2"`, `for="email"`)

	res := b.post("/register", url.Values{"email": {"new@example.com"}, "nickname": {"새내기"}, "password": {testPassword}, "password2": {"different one"}})
	res.wantStatus(http.StatusBadRequest).wantBody("The two passwords differ.", `value="새내기"`, `value="new@example.com"`)
	res = b.post("/register", url.Values{"email": {"not an email"}, "password": {"12345678"}, "password2": {"12345678"}})
	res.wantStatus(http.StatusBadRequest).wantBody(`id="email-err"`, `aria-invalid="true"`)
	// Nothing was created by the refusals.
	e.do("POST", "/user/login/", "", map[string]string{"email": "new@example.com", "password": testPassword}).wantStatus(http.StatusBadRequest)

	res = b.post("/register", url.Values{"email": {"new@example.com"}, "nickname": {"새내기"}, "password": {testPassword}, "password2": {testPassword}})
	b.follow(res).wantBody("Welcome to maru!", "새내기")

	other := e.browser()
	other.post("/register", url.Values{"email": {"NEW@example.com"}, "password": {testPassword}, "password2": {testPassword}}).
		wantStatus(http.StatusBadRequest).wantBody("A user is already registered with this e-mail address.")
}

// The navigation marks where the reader is: the page itself with
// aria-current="page", any page within a section with "true".
func TestNavMarksWhereYouAre(t *testing.T) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	post := e.do("POST", "/api/post/write", admin.Access, map[string]any{"title": "t", "content": "c"}).wantStatus(http.StatusCreated)
	var created struct {
		ID int64 `json:"post_id"`
	}
	post.decode(&created)
	b := e.browser()
	b.login(admin.Email)

	links := []string{"/", "/chat", "/friends", "/admin", "/profile"}
	for _, c := range []struct {
		path string
		want map[string]string // link → aria-current; the rest have none
	}{
		{"/", map[string]string{"/": "page"}},
		{"/?page=1&tag=x", map[string]string{"/": "page"}},
		{"/posts/" + strconv.FormatInt(created.ID, 10), map[string]string{"/": "true"}},
		{"/posts/new", map[string]string{"/": "true"}},
		{"/chat", map[string]string{"/chat": "page"}},
		{"/friends", map[string]string{"/friends": "page"}},
		{"/admin/users", map[string]string{"/admin": "true"}},
		{"/profile/edit", map[string]string{"/profile": "true"}},
		{"/api/docs", map[string]string{}},
	} {
		body := string(b.get(c.path).wantStatus(http.StatusOK).Body)
		for _, link := range links {
			anchor := `<li><a href="` + link + `"`
			if link == "/profile" {
				anchor = `class="who" href="/profile"`
			}
			i := strings.Index(body, anchor)
			if i < 0 {
				t.Fatalf("%s: no link to %s", c.path, link)
			}
			end := i + len(anchor)
			tag := body[i : end+strings.IndexByte(body[end:], '>')]
			got := ""
			if _, v, ok := strings.Cut(tag, `aria-current="`); ok {
				got, _, _ = strings.Cut(v, `"`)
			}
			if got != c.want[link] {
				t.Errorf("%s: link to %s has aria-current %q, want %q", c.path, link, got, c.want[link])
			}
		}
	}
}

// The pager speaks the page's language.
func TestPagerLabels(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("writer@example.com")
	for i := range 25 {
		if _, err := e.store.CreatePost(context.Background(), store.NewPost{AuthorID: u.ID, Title: fmt.Sprint("post ", i), Content: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	e.browser().get("/?page=2").wantBody(`<nav class="pager" aria-label="Pages">`, `rel="prev" href="/" aria-label="Previous page"`)
	req, _ := http.NewRequest("GET", e.http.URL+"/", nil)
	req.Header.Set("Accept-Language", "ko")
	e.send(req).wantBody(`<nav class="pager" aria-label="페이지">`, `aria-label="다음 페이지">›</a>`)
}
