package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"
	"unicode/utf8"

	"maru/store"
)

// The fuzz targets of package web feed what a client may send (JSON
// bodies, multipart forms, query strings, chat frames, tokens) to the real
// handlers, in process and over a real store, and check properties of the
// answer rather than exact bodies: never a server error; a refusal in one
// of DRF's shapes that gives away nothing of Go's insides; and a success
// that obeys the documented limits and reads back as it was written.
//
// Each runs its seeds with the ordinary tests; to fuzz one, for example:
//
//	go test ./web -run '^$' -fuzz '^FuzzPostBodies$' -fuzztime 1m
//
// .ci/run fuzzes each for a few seconds. A crasher the fuzzer finds is
// written under testdata/fuzz/<target>/ and stays there, fixed, as a case
// every later run checks.

// fuzzEnv is one server for a fuzz target, set up once per fuzzing
// process. Every limit that counts per user or per address is off, so that
// the fuzzer reaches the validation behind them.
type fuzzEnv struct {
	*testEnv
	owner, other, admin *testUser // owner writes the post, the room, the messages
	ownerCookie         *http.Cookie
	post, room          int64
	category            int64

	n atomic.Uint64 // requests sent, to give each its own client address
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	e := startEnv(f, envOptions{quiet: true, cfg: Config{
		RegisterRate: -1, PostRate: -1, RoomRate: -1, ChatRate: -1, ChatSockets: -1,
	}})
	fe := &fuzzEnv{testEnv: e}
	fe.owner = e.register("owner@example.com")
	fe.other = e.register("other@example.com")
	fe.admin = e.register("admin@example.com")
	e.makeAdmin(fe.admin)
	fe.ownerCookie = e.sessionCookie(fe.owner)
	fe.post = e.writePost(fe.owner, map[string]any{"title": "title", "content": "content", "tags": []string{"t"}}).ID
	fe.room = e.createRoom(fe.owner, "room").ID
	fe.category = e.createCategory(fe.admin, "news")
	return fe
}

// Who sends a fuzzed request.
const (
	asAnonymous = iota
	asOwner
	asAdmin
	asFresh // a new account for each request: for routes that spend it
)

// fuzzCaller is who sends one request: its account and its access token.
type fuzzCaller struct {
	user   *store.User
	access string
}

// caller returns the account a request goes out as (nil for anonymous).
func (fe *fuzzEnv) caller(t *testing.T, who int) *fuzzCaller {
	ctx := context.Background()
	var id int64
	switch who {
	case asAnonymous:
		return nil
	case asOwner:
		id = fe.owner.ID
	case asAdmin:
		id = fe.admin.ID
	case asFresh:
		u, err := fe.store.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("fresh%d@example.com", fe.n.Add(1)), Password: testPassword})
		if err != nil {
			t.Fatalf("fresh account: %v", err)
		}
		id = u.ID
	}
	u, err := fe.store.UserByID(ctx, id)
	if err != nil {
		t.Fatalf("caller: %v", err)
	}
	access, err := fe.server.tokens.issueAccess(u)
	if err != nil {
		t.Fatal(err)
	}
	return &fuzzCaller{user: u, access: access}
}

// fill replaces the placeholders a seed may hold with what only this
// process knows: $EMAIL and $PASSWORD of the caller, $REFRESH (a refresh
// token of the caller, fresh for this request), $OTHER (another user's
// email), $ROOM and $CATEGORY (ids). The fuzzer mutates around them.
func (fe *fuzzEnv) fill(t *testing.T, body []byte, c *fuzzCaller) []byte {
	if !bytes.Contains(body, []byte("$")) {
		return body
	}
	pairs := []string{
		"$OTHER", fe.other.Email, "$PASSWORD", testPassword,
		"$ROOM", strconv.FormatInt(fe.room, 10), "$CATEGORY", strconv.FormatInt(fe.category, 10),
	}
	if c != nil {
		pairs = append(pairs, "$EMAIL", c.user.Email)
		if bytes.Contains(body, []byte("$REFRESH")) {
			_, refresh, err := fe.server.tokenPair(context.Background(), c.user)
			if err != nil {
				t.Fatal(err)
			}
			pairs = append(pairs, "$REFRESH", refresh)
		}
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(body)))
}

// serve sends one request through the whole middleware chain, in process,
// from a client address of its own (so that no per-address limit or login
// throttle builds up across requests). A rawQuery that is not "" replaces
// the query of path, byte for byte as the fuzzer made it.
func (fe *fuzzEnv) serve(method, path, rawQuery string, h http.Header, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if rawQuery != "" {
		req.URL.RawQuery = rawQuery
	}
	for k, v := range h {
		req.Header[k] = v
	}
	n := fe.n.Add(1)
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", byte(n>>16), byte(n>>8), byte(n))
	rec := httptest.NewRecorder()
	fe.server.ServeHTTP(rec, req)
	return rec
}

// api sends a JSON request as c (anonymous when nil) and returns the answer.
func (fe *fuzzEnv) api(method, path string, c *fuzzCaller, body []byte) *httptest.ResponseRecorder {
	h := http.Header{}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	if c != nil {
		h.Set("Authorization", "Bearer "+c.access)
	}
	return fe.serve(method, path, "", h, body)
}

// get sends a GET as c and decodes its JSON answer into v, failing the
// test unless it is a 200.
func (fe *fuzzEnv) get(t *testing.T, path string, c *fuzzCaller, v any) []byte {
	rec := fe.api("GET", path, c, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body %.500s", path, rec.Code, rec.Body)
	}
	if v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return rec.Body.Bytes()
}

// leakMarks are bits of Go's and SQLite's own error texts: none may reach
// a client, unless the client sent it in the first place (some refusals
// name the value refused).
var leakMarks = []string{"json:", "strconv", "sqlite", "SQL logic", "runtime error", "goroutine", "cannot unmarshal", "invalid character", "unexpected EOF", "panic", "nil pointer", "multipart:"}

// checkAnswer checks what every answer to a fuzzed API request must be: no
// server error (a 503 only with Retry-After); a JSON body, or none for a
// 204; a refusal as DRF's {"field": ["message", ...]} or {"detail": ...}
// that leaks no internals.
func checkAnswer(t *testing.T, what string, sent []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	body := rec.Body.Bytes()
	switch {
	case rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") != "":
	case rec.Code >= 500:
		t.Fatalf("%s with %q: status %d; body %.1000s", what, sent, rec.Code, body)
	case rec.Code == http.StatusNoContent:
		if len(body) != 0 {
			t.Fatalf("%s: 204 with a body %.200q", what, body)
		}
		return
	}
	if !json.Valid(body) {
		t.Fatalf("%s with %q: status %d, not JSON: %.1000q", what, sent, rec.Code, body)
	}
	if rec.Code < 400 {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || len(m) == 0 {
		t.Fatalf("%s with %q: refusal %d is not a JSON object: %.1000s", what, sent, rec.Code, body)
	}
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if k != "detail" && k != "code" {
				t.Fatalf("%s: refusal %s: %q is a string, want a list of messages", what, body, k)
			}
		case []any:
			if len(x) == 0 {
				t.Fatalf("%s: refusal %s: %q has no message", what, body, k)
			}
			for _, msg := range x {
				if s, ok := msg.(string); !ok || s == "" {
					t.Fatalf("%s: refusal %s: %q holds %v, want messages", what, body, k, msg)
				}
			}
		default:
			t.Fatalf("%s: refusal %s: %q is %T", what, body, k, v)
		}
	}
	checkNoLeak(t, what, sent, body)
}

func checkNoLeak(t *testing.T, what string, sent, body []byte) {
	t.Helper()
	for _, mark := range leakMarks {
		if bytes.Contains(body, []byte(mark)) && !bytes.Contains(sent, []byte(mark)) {
			t.Fatalf("%s with %q: the answer leaks %q: %.1000s", what, sent, mark, body)
		}
	}
}

// checkText checks a stored text field: valid UTF-8, trimmed, within
// [minLen, maxLen] characters, and without control characters (but line
// breaks and tabs where lines is set).
func checkText(t *testing.T, field, s string, minLen, maxLen int, lines bool) {
	t.Helper()
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		t.Fatalf("%s %q is not UTF-8", field, s)
	case n < minLen || n > maxLen:
		t.Fatalf("%s %q has %d characters, want %d to %d", field, s, n, minLen, maxLen)
	case minLen > 0 && s != strings.TrimSpace(s):
		t.Fatalf("%s %q is not trimmed", field, s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(lines && (r == '\n' || r == '\t'))
	}); i >= 0 {
		t.Fatalf("%s %q holds a control character at %d", field, s, i)
	}
}

// fuzzRoute is one JSON route a fuzz target sends bodies to.
type fuzzRoute struct {
	method, path string // path may hold {post}, {room}, {category}
	who          int    // asOwner...
	seeds        []string
	// check, when set, checks a 2xx answer: its limits, and that it reads
	// back as written.
	check func(t *testing.T, fe *fuzzEnv, x *fuzzExchange)
}

// fuzzExchange is one request of a fuzz target and its answer.
type fuzzExchange struct {
	caller *fuzzCaller
	sent   []byte
	rec    *httptest.ResponseRecorder
}

func (x *fuzzExchange) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(x.rec.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %s: %v", x.rec.Body, err)
	}
}

// request decodes what was sent into the route's own request type, as the
// handler did, so that a check can compare with it.
func (x *fuzzExchange) request(t *testing.T, v any) {
	t.Helper()
	if err := decodeJSON(x.sent, v); err != nil {
		t.Fatalf("the server took %q, which does not decode: %v", x.sent, err)
	}
}

func (fe *fuzzEnv) routePath(p string) string {
	return strings.NewReplacer(
		"{post}", strconv.FormatInt(fe.post, 10),
		"{room}", strconv.FormatInt(fe.room, 10),
		"{category}", strconv.FormatInt(fe.category, 10),
	).Replace(p)
}

// fuzzJSONRoutes fuzzes the bodies of routes: the fuzzer picks a route by
// its index and mutates the body, seeded with each route's seeds.
func fuzzJSONRoutes(f *testing.F, routes []fuzzRoute) {
	fe := newFuzzEnv(f)
	for i, r := range routes {
		for _, s := range r.seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		r := routes[int(which)%len(routes)]
		c := fe.caller(t, r.who)
		body = fe.fill(t, body, c)
		path := fe.routePath(r.path)
		rec := fe.api(r.method, path, c, body)
		checkAnswer(t, r.method+" "+path, body, rec)
		if rec.Code < 300 && r.check != nil {
			r.check(t, fe, &fuzzExchange{caller: c, sent: body, rec: rec})
		}
	})
}
