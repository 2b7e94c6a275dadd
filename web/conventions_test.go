package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestErrorShapesAndHeaders(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("conv@example.com")
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `"}`
	tests := []struct {
		name, method, path, token string
		body                      any
		contentType               string
		status                    int
		want                      string
	}{
		{"unknown path", "GET", "/api/no/such/thing/", "", nil, "", 404, `{"detail":"Not found."}`},
		{"unknown account path", "GET", "/user/nothing/", "", nil, "", 404, `{"detail":"Not found."}`},
		{"wrong method", "DELETE", "/user/login/", "", nil, "", 405, `{"detail":"Method \"DELETE\" not allowed."}`},
		{"wrong method without slash", "GET", "/user/registration", "", nil, "", 405, `{"detail":"Method \"GET\" not allowed."}`},
		{"oversized body", "POST", "/user/registration/", "", big, "application/json", 413, `"detail":"Request body is too large."`},
		{"wrong content type", "POST", "/user/login/", "", `email=a&password=b`, "application/x-www-form-urlencoded", 415, `"detail":"Unsupported media type`},
		{"no content type", "POST", "/user/login/", "", `{"email":"a@b.co"}`, "", 415, `Unsupported media type`},
		{"json with charset", "POST", "/user/login/", "", `{"email":"conv@example.com","password":"correct horse battery"}`, "application/json; charset=utf-8", 200, `"access"`},
		{"bool for a string", "PATCH", "/mysite/user/v1/profile/edit/", u.Access, `{"status": true}`, "application/json", 400, `{"status":["Not a valid string."]}`},
		{"string for a bool", "PATCH", "/mysite/user/v1/profile/edit", u.Access, `{"is_private": "yes"}`, "application/json", 400, `{"is_private":["Must be a valid boolean."]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body *strings.Reader
			if s, ok := tt.body.(string); ok {
				body = strings.NewReader(s)
			} else {
				body = strings.NewReader("")
			}
			req, _ := http.NewRequest(tt.method, e.http.URL+tt.path, body)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			res := e.send(req).wantStatus(tt.status).wantBody(tt.want)
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if got := res.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("CSP = %q, want frame-ancestors 'none'", csp)
			}
			if rp := res.Header.Get("Referrer-Policy"); rp == "" {
				t.Error("no Referrer-Policy")
			}
		})
	}
}

// Every API route answers with and without its trailing slash, without a
// redirect (clients POST).
func TestBothSlashForms(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("slash@example.com")
	for _, path := range []string{"/mysite/user/v1/profile/", "/mysite/user/v1/profile"} {
		e.do("GET", path, u.Access, nil).wantStatus(http.StatusOK)
	}
	for _, path := range []string{"/user/login/", "/user/login"} {
		e.do("POST", path, "", map[string]string{"email": u.Email, "password": "correct horse battery"}).wantStatus(http.StatusOK)
	}
	// "/x/" must not swallow "/x/anything".
	e.do("GET", "/mysite/user/v1/profile/extra", u.Access, nil).wantStatus(http.StatusNotFound)
}

func TestPanicBecomesGeneric500(t *testing.T) {
	e := newTestEnv(t)
	h := e.server.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/boom", nil))
	if rec.Code != 500 || rec.Body.String() != "{\"detail\":\"A server error occurred.\"}\n" {
		t.Fatalf("got %d %q, want a generic 500", rec.Code, rec.Body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "secret internal state") || !strings.Contains(logs, "goroutine") {
		t.Fatalf("panic and stack not logged: %s", logs)
	}
}

func TestRequestLogLine(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("log@example.com")
	e.do("GET", "/mysite/user/v1/profile/?token="+u.Access, u.Access, nil).wantStatus(http.StatusOK)
	var line string
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, "path=/mysite/user/v1/profile/") {
			line = l
		}
	}
	for _, want := range []string{"msg=request", "method=GET", "status=200", "duration=", "user_id=" + strconv.FormatInt(u.ID, 10)} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, u.Access) || strings.Contains(logs, u.Refresh) || strings.Contains(logs, "correct horse battery") {
		t.Fatal("a token or password reached the log")
	}
}

// A request whose client went away before anything was written is logged
// as 499, not as a 200 that was never sent; one answered with nothing is a
// 200.
func TestRequestLogClientGone(t *testing.T) {
	e := newTestEnv(t)
	h := e.server.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/gone", nil).WithContext(ctx))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/empty", nil))
	for path, want := range map[string]string{"/api/gone": "status=499", "/api/empty": "status=200"} {
		var line string
		for _, l := range strings.Split(e.logs.String(), "\n") {
			if strings.Contains(l, "path="+path+" ") {
				line = l
			}
		}
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
}

func TestHealthz(t *testing.T) {
	e := newTestEnv(t)
	e.do("GET", "/healthz", "", nil).wantStatus(http.StatusOK).wantBody(`"status":"ok"`)
	e.store.Close()
	e.do("GET", "/healthz", "", nil).wantStatus(http.StatusServiceUnavailable)
}

// sessionCookie logs u in the way the login page does: a session in the
// database and its cookie.
func (e *testEnv) sessionCookie(u *testUser) *http.Cookie {
	e.t.Helper()
	sm := e.server.sessions
	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		e.t.Fatal(err)
	}
	sm.Put(ctx, sessionUserKey, u.ID)
	token, _, err := sm.Commit(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Cookie{Name: sm.Cookie.Name, Value: token}
}

func TestSessionCookieAuthenticatesAPI(t *testing.T) {
	path := t.TempDir() + "/app.db"
	e := newTestEnvAt(t, path)
	u := e.register("cookie@example.com")
	cookie := e.sessionCookie(u)

	get := func(e *testEnv) *response {
		req, _ := http.NewRequest("GET", e.http.URL+"/mysite/user/v1/profile/", nil)
		req.AddCookie(cookie)
		return e.send(req)
	}
	get(e).wantStatus(http.StatusOK).wantBody(`"email":"cookie@example.com"`)

	// Sessions live in the database file: they survive a restart.
	e.close()
	e = newTestEnvAt(t, path)
	get(e).wantStatus(http.StatusOK)

	// An unsafe request from another site is refused (CSRF)...
	logout := func(site, origin string) *response {
		req, _ := http.NewRequest("POST", e.http.URL+"/user/logout/", nil)
		req.AddCookie(cookie)
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return e.send(req)
	}
	logout("cross-site", "https://evil.example").wantStatus(http.StatusForbidden).wantBody(`"detail":"CSRF Failed`)
	logout("", "https://evil.example").wantStatus(http.StatusForbidden)
	get(e).wantStatus(http.StatusOK)
	// ...and a same-origin one works, ending the session.
	res := logout("same-origin", e.http.URL).wantStatus(http.StatusOK)
	if !strings.Contains(res.Header.Get("Set-Cookie"), "maru_session=;") {
		t.Errorf("logout Set-Cookie = %q, want the session cookie cleared", res.Header.Get("Set-Cookie"))
	}
	get(e).wantStatus(http.StatusUnauthorized)
}

// A Bearer request carries no ambient credential: cross-origin protection
// does not apply to it.
func TestBearerSkipsCrossOriginCheck(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("bearer@example.com")
	req, _ := http.NewRequest("POST", e.http.URL+"/user/logout/", bytes.NewReader(nil))
	req.Header.Set("Authorization", "Bearer "+u.Access)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://elsewhere.example")
	e.send(req).wantStatus(http.StatusOK)
}

func TestHSTSOnlyBehindHTTPS(t *testing.T) {
	for _, tc := range []struct {
		base string
		want bool
	}{{"", false}, {"http://club.lan", false}, {"https://club.example.org", true}} {
		e := newTestEnvWith(t, Config{BaseURL: tc.base})
		res := e.do("GET", "/healthz", "", nil)
		if got := res.Header.Get("Strict-Transport-Security") != ""; got != tc.want {
			t.Errorf("base %q: HSTS sent = %v, want %v", tc.base, got, tc.want)
		}
	}
}

// A client that starts a body and then stalls is answered and cut off,
// instead of holding its connection for ever.
func TestStalledBodyIsCutOff(t *testing.T) {
	e := newTestEnvWith(t, Config{BodyTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /user/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("stalled body: status %d, want 400", res.StatusCode)
	}
}
