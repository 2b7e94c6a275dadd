package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"golang.org/x/crypto/bcrypt"

	"maru/store"
)

// testEnv is a maru server over a real SQLite file in a temp dir, reached
// through real HTTP.
type testEnv struct {
	t      *testing.T
	store  *store.Store
	server *Server
	http   *httptest.Server
	logs   *lockedBuffer // everything the server logged

	closeOnce sync.Once
}

// testStatic stands in for the embedded static/ folder.
var testStatic = fstest.MapFS{"maru.css": {Data: []byte("body{}")}, "apidocs.css": {Data: []byte("body{}")}}

func newTestEnv(t *testing.T) *testEnv { return newTestEnvWith(t, Config{}) }

func newTestEnvWith(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	return newTestEnvFull(t, filepath.Join(t.TempDir(), "app.db"), cfg)
}

// newTestEnvAt runs a server on the database file at path, so that a test
// can stop it (close) and start another on the same file.
func newTestEnvAt(t *testing.T, path string) *testEnv {
	t.Helper()
	return newTestEnvFull(t, path, Config{})
}

func newTestEnvFull(t *testing.T, path string, cfg Config) *testEnv {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	logs := new(lockedBuffer)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := NewServer(cfg, logger, st, testStatic)
	if err != nil {
		st.Close()
		t.Fatalf("new server: %v", err)
	}
	hs := httptest.NewServer(srv)
	e := &testEnv{t: t, store: st, server: srv, http: hs, logs: logs}
	t.Cleanup(e.close)
	return e
}

// close stops the server and closes its database; closing twice is harmless.
func (e *testEnv) close() {
	e.closeOnce.Do(func() {
		e.http.Close()
		e.server.Close()
		e.store.Close()
	})
}

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
	const password = "correct horse battery"
	res := e.do("POST", "/user/registration/", "", map[string]string{"email": email, "password": password})
	res.wantStatus(http.StatusCreated)
	res = e.do("POST", "/user/login/", "", map[string]string{"email": email, "password": password})
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
	t      *testing.T
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
	res, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return &response{t: e.t, req: req.Method + " " + req.URL.RequestURI(), Status: res.StatusCode, Header: res.Header, Body: b}
}

func (r *response) wantStatus(want int) *response {
	r.t.Helper()
	if r.Status != want {
		r.t.Fatalf("%s: status %d, want %d; body %s", r.req, r.Status, want, r.Body)
	}
	return r
}

// wantBody checks that the body contains each of parts.
func (r *response) wantBody(parts ...string) *response {
	r.t.Helper()
	for _, p := range parts {
		if !bytes.Contains(r.Body, []byte(p)) {
			r.t.Fatalf("%s: body %s does not contain %s", r.req, r.Body, p)
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
