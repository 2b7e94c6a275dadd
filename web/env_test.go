package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"maru/store"
)

// testEnv is a maru server over a real SQLite file in a temp dir, reached
// through real HTTP. It is the one server-under-test of package web: API
// tests, page tests, browser tests and benchmarks all start theirs here.
type testEnv struct {
	t      testing.TB
	path   string // the database file
	store  *store.Store
	server *Server
	http   *httptest.Server
	logs   *lockedBuffer // everything the server logged (nil when quiet)

	closeOnce sync.Once
}

// testStatic is the real static/ folder, as the binary embeds it.
var testStatic = os.DirFS("../static")

// envOptions are the ways one test environment differs from another.
type envOptions struct {
	cfg   Config
	path  string                          // the database file; a new one in a temp dir when ""
	store store.Options                   // BcryptCost defaults to the cheapest, for speed
	quiet bool                            // log nothing (benchmarks), instead of into logs
	wrap  func(net.Listener) net.Listener // wraps the listener, when set
}

func newTestEnv(t testing.TB) *testEnv { return startEnv(t, envOptions{}) }

func newTestEnvWith(t testing.TB, cfg Config) *testEnv { return startEnv(t, envOptions{cfg: cfg}) }

// newTestEnvAt runs a server on the database file at path, so that a test
// can stop it (close) and start another on the same file.
func newTestEnvAt(t testing.TB, path string) *testEnv { return startEnv(t, envOptions{path: path}) }

func newTestEnvFull(t testing.TB, path string, cfg Config) *testEnv {
	return startEnv(t, envOptions{path: path, cfg: cfg})
}

// startEnv opens the store, builds the server and serves it over HTTP on
// loopback; everything is closed when the test ends.
func startEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	if o.path == "" {
		o.path = filepath.Join(t.TempDir(), "app.db")
	}
	if o.store.BcryptCost == 0 {
		o.store.BcryptCost = bcrypt.MinCost
	}
	st, err := store.Open(context.Background(), o.path, o.store)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	e := &testEnv{t: t, path: o.path, store: st}
	var logger *slog.Logger
	if o.quiet {
		logger = slog.New(slog.DiscardHandler)
	} else {
		e.logs = new(lockedBuffer)
		logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.server, err = NewServer(o.cfg, logger, st, testStatic)
	if err != nil {
		st.Close()
		t.Fatalf("new server: %v", err)
	}
	e.http = httptest.NewUnstartedServer(e.server)
	if o.wrap != nil {
		e.http.Listener = o.wrap(e.http.Listener)
	}
	e.http.Start()
	t.Cleanup(e.close)
	return e
}

// close stops the server and closes its database; closing twice is harmless.
func (e *testEnv) close() {
	e.closeOnce.Do(func() {
		e.http.CloseClientConnections()
		e.http.Close()
		e.server.Close()
		if err := e.store.Close(); err != nil && !errors.Is(err, context.Canceled) {
			e.t.Errorf("close store: %v", err)
		}
	})
}

// testPassword is the password of every account tests register.
const testPassword = "correct horse battery"

// testUser is a registered account with a fresh token pair.
type testUser struct {
	ID      int64
	Email   string
	Access  string
	Refresh string
}

// register creates an account through the API and logs it in.
func (e *testEnv) register(email string) *testUser {
	e.t.Helper()
	res := e.do("POST", "/user/registration/", "", map[string]string{"email": email, "password": testPassword})
	res.wantStatus(http.StatusCreated)
	res = e.do("POST", "/user/login/", "", map[string]string{"email": email, "password": testPassword})
	res.wantStatus(http.StatusOK)
	var body struct {
		Profile struct{ ID int64 }
		Access  string
		Refresh string
	}
	res.decode(&body)
	return &testUser{ID: body.Profile.ID, Email: email, Access: body.Access, Refresh: body.Refresh}
}

// makeAdmin grants u the admin role.
func (e *testEnv) makeAdmin(u *testUser) {
	e.t.Helper()
	if err := e.store.SetAdmin(context.Background(), u.Email, true); err != nil {
		e.t.Fatalf("make admin: %v", err)
	}
}

// response is a finished request, its body read.
type response struct {
	t      testing.TB
	req    string
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request with a JSON body (a string or []byte is sent as is;
// nil sends none) and a Bearer token (none when empty).
func (e *testEnv) do(method, path, token string, body any) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

// send sends a prepared request.
func (e *testEnv) send(req *http.Request) *response {
	e.t.Helper()
	return sendWith(e.t, e.http.Client(), req)
}

func sendWith(t testing.TB, c *http.Client, req *http.Request) *response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return &response{t: t, req: req.Method + " " + req.URL.RequestURI(), Status: res.StatusCode, Header: res.Header, Body: b}
}

func (r *response) wantStatus(want int) *response {
	r.t.Helper()
	if r.Status != want {
		r.t.Fatalf("%s: status %d, want %d; body %.2000s", r.req, r.Status, want, r.Body)
	}
	return r
}

// wantBody checks that the body contains each of parts.
func (r *response) wantBody(parts ...string) *response {
	r.t.Helper()
	for _, p := range parts {
		if !bytes.Contains(r.Body, []byte(p)) {
			r.t.Fatalf("%s: body %.3000s does not contain %s", r.req, r.Body, p)
		}
	}
	return r
}

// wantNoBody checks that the body contains none of parts.
func (r *response) wantNoBody(parts ...string) *response {
	r.t.Helper()
	for _, p := range parts {
		if bytes.Contains(r.Body, []byte(p)) {
			r.t.Fatalf("%s: body contains %s:\n%.3000s", r.req, p, r.Body)
		}
	}
	return r
}

func (r *response) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("%s: decode %s: %v", r.req, r.Body, err)
	}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so a test sees each 303 of POST/redirect/GET: a stand-in for a
// person's browser without JavaScript.
type browser struct {
	e   *testEnv
	c   *http.Client
	url string // the server's origin, sent as Origin on forms
}

func (e *testEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := e.http.Client()
	return &browser{e: e, url: e.http.URL, c: &http.Client{
		Transport:     c.Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// get fetches a page.
func (b *browser) get(path string) *response {
	b.e.t.Helper()
	req, err := http.NewRequest("GET", b.url+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return sendWith(b.e.t, b.c, req)
}

// post submits a urlencoded form from a page of this site, as a browser
// does (with Sec-Fetch-Site: same-origin).
func (b *browser) post(path string, form url.Values) *response {
	b.e.t.Helper()
	req, err := http.NewRequest("POST", b.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.url)
	return sendWith(b.e.t, b.c, req)
}

// follow gets the page a 303 points to, so a test reads the notice.
func (b *browser) follow(res *response) *response {
	b.e.t.Helper()
	res.wantStatus(http.StatusSeeOther)
	return b.get(res.Header.Get("Location"))
}

// login logs the browser in through the login page as email.
func (b *browser) login(email string) {
	b.e.t.Helper()
	b.post("/login", url.Values{"email": {email}, "password": {testPassword}}).wantStatus(http.StatusSeeOther)
}

// lockedBuffer lets concurrent handlers log into one buffer that a test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
