package web

import (
	"net/http"
	"strings"
	"testing"
)

const frontEnd = "https://app.example.org"

// corsRequest sends method path from origin, as a browser would from a
// page there (Sec-Fetch-Site says cross-site); extra headers are pairs.
func (e *testEnv) corsRequest(method, path, origin string, body string, extra ...string) *response {
	e.t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	return e.send(req)
}

func preflight(e *testEnv, path, origin string) *response {
	return e.corsRequest("OPTIONS", path, origin, "",
		"Access-Control-Request-Method", "PATCH", "Access-Control-Request-Headers", "authorization,content-type")
}

func TestCORSOffByDefaultChangesNothing(t *testing.T) {
	e := newTestEnv(t)
	e.register("a@example.com")
	res := preflight(e, "/api/post/", frontEnd)
	if res.Status == http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight without -cors-origins: %d %v", res.Status, res.Header)
	}
	res = e.corsRequest("GET", "/api/post/", frontEnd, "")
	res.wantStatus(http.StatusOK)
	for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Vary"} {
		if v := res.Header.Get(h); v != "" && !(h == "Vary" && !strings.Contains(v, "Origin")) {
			t.Errorf("%s: %q without -cors-origins", h, v)
		}
	}
	// An unsafe cross-origin request is still refused by the CSRF guard.
	e.corsRequest("POST", "/user/login/", frontEnd, `{"email":"a@example.com","password":"correct horse battery"}`).
		wantStatus(http.StatusForbidden)
}

func TestCORSLetsListedOriginsUseTokens(t *testing.T) {
	e := newTestEnvWith(t, Config{CORSOrigins: []string{frontEnd, "http://localhost:5173/"}})
	u := e.register("a@example.com")

	t.Run("preflight from a listed origin", func(t *testing.T) {
		res := preflight(e, "/mysite/user/v1/profile/edit/", frontEnd).wantStatus(http.StatusNoContent)
		want := map[string]string{
			"Access-Control-Allow-Origin":  frontEnd,
			"Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
			"Access-Control-Allow-Headers": "Authorization, Content-Type",
		}
		for h, v := range want {
			if got := res.Header.Get(h); got != v {
				t.Errorf("%s: %q, want %q", h, got, v)
			}
		}
		if res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("credentials allowed")
		}
		preflight(e, "/api/post/", "http://localhost:5173").wantStatus(http.StatusNoContent)
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		res := preflight(e, "/api/post/", "https://evil.example.net")
		if res.Status == http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("unlisted origin: %d %v", res.Status, res.Header)
		}
		if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Origin") {
			t.Error("no Vary: Origin")
		}
	})
	t.Run("a listed origin reads the paging headers", func(t *testing.T) {
		e.do("POST", "/api/post/write", u.Access, map[string]any{"title": "one", "content": "c"}).wantStatus(http.StatusCreated)
		e.do("POST", "/api/post/write", u.Access, map[string]any{"title": "two", "content": "c"}).wantStatus(http.StatusCreated)
		res := e.corsRequest("GET", "/api/post/?page_size=1", frontEnd, "").wantStatus(http.StatusOK)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != frontEnd {
			t.Errorf("Allow-Origin %q", got)
		}
		expose := res.Header.Get("Access-Control-Expose-Headers")
		for _, h := range []string{"Link", "X-Total-Count", "X-Request-Id"} {
			if !strings.Contains(expose, h) {
				t.Errorf("Expose-Headers %q lacks %s", expose, h)
			}
		}
		if res.Header.Get("Link") == "" || res.Header.Get("X-Total-Count") != "2" {
			t.Errorf("paging headers missing: %v", res.Header)
		}
	})
	t.Run("a listed origin logs in and uses its token", func(t *testing.T) {
		res := e.corsRequest("POST", "/user/login/", frontEnd, `{"email":"a@example.com","password":"correct horse battery"}`).
			wantStatus(http.StatusOK)
		var body struct{ Access string }
		res.decode(&body)
		e.corsRequest("PATCH", "/mysite/user/v1/profile/edit/", frontEnd, `{"status":"from the front end"}`,
			"Authorization", "Bearer "+body.Access).wantStatus(http.StatusOK).wantBody("from the front end")
	})
	t.Run("a listed origin gets nothing from a session cookie", func(t *testing.T) {
		cookie := e.sessionCookie(u)
		for _, c := range []struct{ method, path string }{
			{"GET", "/mysite/user/v1/profile/"},
			{"POST", "/user/logout/"},
		} {
			res := e.corsRequest(c.method, c.path, frontEnd, "", "Cookie", cookie.Name+"="+cookie.Value)
			res.wantStatus(http.StatusUnauthorized)
		}
		// The same cookie from the site itself still works.
		req, _ := http.NewRequest("GET", e.http.URL+"/mysite/user/v1/profile/", nil)
		req.AddCookie(cookie)
		e.send(req).wantStatus(http.StatusOK)
	})
	t.Run("an unlisted origin is still refused by the CSRF guard", func(t *testing.T) {
		e.corsRequest("POST", "/user/login/", "https://evil.example.net", `{"email":"a@example.com","password":"correct horse battery"}`).
			wantStatus(http.StatusForbidden)
	})
}

func TestCORSOriginsAreChecked(t *testing.T) {
	for _, bad := range []string{"app.example.org", "https://app.example.org/path", "ftp://x.org", "*", "https://user@x.org"} {
		if _, err := corsOrigins([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
