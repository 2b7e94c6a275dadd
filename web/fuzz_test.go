package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"maru/store"
)

// FuzzDecodeJSON feeds arbitrary bodies to the request decoder: it must
// never panic, and must fail only with a client error (a DRF-shaped 400),
// never with a raw error that would become a 500.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@b.co","password":"x"}`, `{"is_private":true,"nickname":null}`, `[]`, `"str"`, `1e999`,
		`{"email":{"a":1}}`, `{"profile_picture":[1,2]}`, `{`, `{"a":1}{"b":2}`, "\xff\xfe", `{"status":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{new(registrationRequest), new(profileEditRequest), new(refreshRequest)} {
			err := decodeJSON(body, dst)
			if err == nil {
				continue
			}
			var ae *apiError
			var ve *store.ValidationError
			switch {
			case errors.As(err, &ae):
				if ae.status != http.StatusBadRequest {
					t.Fatalf("decode %q: status %d, want 400", body, ae.status)
				}
			case errors.As(err, &ve):
				if len(ve.Fields) == 0 {
					t.Fatalf("decode %q: empty validation error", body)
				}
			default:
				t.Fatalf("decode %q: unclassified error %v", body, err)
			}
		}
	})
}

// FuzzProcessPicture feeds arbitrary bytes to the picture pipeline: it must
// never panic, and whatever it accepts comes out as a small JPEG or PNG.
func FuzzProcessPicture(f *testing.F) {
	var buf bytes.Buffer
	f.Add(pngHeaderOnly(1, 1))
	f.Add(pngHeaderOnly(1<<20, 1<<20))
	img := testImage(600, 20, false)
	f.Add(pngBytesNoT(img, &buf))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	slots := make(chan struct{}, 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		pic, err := processPicture(data, slots)
		if err != nil {
			var ve *store.ValidationError
			if !errors.As(err, &ve) || !ve.Has("profile_picture") {
				t.Fatalf("error %v is not a profile_picture validation error", err)
			}
			return
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(pic.Data))
		if err != nil || (format != "jpeg" && format != "png") || cfg.Width > maxPictureSide || cfg.Height > maxPictureSide {
			t.Fatalf("accepted picture re-encoded as %s %dx%d (%v)", format, cfg.Width, cfg.Height, err)
		}
	})
}

// FuzzChatFrame feeds arbitrary frames to what reads a chat socket's
// frames: each is refused with one of the documented error frames, or
// gives a message that obeys the limits and reads the same when sent again.
func FuzzChatFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"chat.message","message":"Hello, World!"}`, `{"type":"chat.message","message":"  안녕\r\n  "}`,
		`{"type":"chat.message","message":""}`, `{"type":"chat.message"}`, `{"type":"chat.other","message":"x"}`,
		`{"type":"chat.message","message":"\u0000"}`, `{"type":"chat.message","message":"\ud800"}`,
		`{"type":"chat.message","message":"` + strings.Repeat("가", 2001) + `"}`, `{"message":"x"}`, `[]`, `nul`, "\xff",
		`{"type":"chat.message","message":"a","type":"x"}`, `{"type":"chat.message","message":["x"]}`,
	} {
		f.Add(true, []byte(s))
	}
	f.Add(false, []byte(`{"type":"chat.message","message":"binary"}`))
	s := &Server{cfg: Config{}.withDefaults()}
	refusals := [][]byte{frameInvalid, frameTooLong}
	f.Fuzz(func(t *testing.T, text bool, data []byte) {
		typ := websocket.MessageBinary
		if text {
			typ = websocket.MessageText
		}
		body, refusal := s.readChatFrame(typ, data)
		if refusal != nil {
			if body != "" || !slices.ContainsFunc(refusals, func(r []byte) bool { return bytes.Equal(r, refusal) }) {
				t.Fatalf("frame %q: body %q and refusal %s", data, body, refusal)
			}
			return
		}
		checkText(t, "message", body, 1, s.cfg.ChatMaxLen, true)
		again, _ := json.Marshal(map[string]string{"type": frameMessage, "message": body})
		if b, r := s.readChatFrame(websocket.MessageText, again); b != body || r != nil {
			t.Fatalf("frame %q gave %q; sent again, %q (%s)", data, body, b, r)
		}
	})
}

// FuzzQueryParams fuzzes the query strings of the API's lists (paging,
// search, category and tag filters, a room's history before/after/limit,
// the friend search) and of the pages that take one. Each answer is a
// 200 or a 400 naming the parameter; a list holds no more than its limit,
// with headers that say how to page on; and a page number, however large,
// is never refused: past the end it is an empty page (DESIGN.md).
func FuzzQueryParams(f *testing.F) {
	fe := newFuzzEnv(f)
	type route struct {
		path    string
		who     int  // asAnonymous, asOwner (token, or cookie for a page)
		page    bool // an HTML page
		maxLen  int  // most items in a JSON answer
		paged   bool // answers X-Total-Count and Link
		filters bool // takes only page, page_size and filters that cannot fail
	}
	routes := []route{
		{path: "/api/post/", maxLen: store.MaxPageSize, paged: true},
		{path: "/api/chat/room/", who: asOwner, maxLen: store.MaxPageSize, paged: true},
		{path: "/api/chat/room/{room}/messages/", who: asOwner, maxLen: store.MaxHistoryLen},
		{path: "/user/search-friends/", who: asOwner, maxLen: store.MaxSearchResults},
		{path: "/", page: true},
		{path: "/chat", who: asOwner, page: true},
		{path: "/friends", who: asOwner, page: true},
		{path: "/login", page: true},
		{path: "/register", page: true},
	}
	for _, q := range []string{
		"page=2&page_size=1", "page=99999999999999999999999", "page=0", "page=-1", "page=x", "page_size=100000000000000000000",
		"page=%2B3", "page= 2 ", "page=1&page=2", "search=제목&category=1&tag=t", "search=%00", "category=-5",
		"category=99999999999999999999", "tag=" + strings.Repeat("x", 31), "before=2&limit=1", "after=1", "before=1&after=1",
		"limit=0", "limit=99999999999999999999", "before=x", "keyword=other", "keyword=", "q=owner", "next=//evil.example",
		"invite=abc", "%zz", "a=%", ";", "page=1;page_size=1", "search=" + strings.Repeat("a+", 300),
	} {
		for i := range routes {
			f.Add(uint8(i), q)
		}
	}
	total := regexp.MustCompile(`^[0-9]+$`)
	link := regexp.MustCompile(`^<(/[^>]*)>; rel="(next|prev)"$`)
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		r := routes[int(which)%len(routes)]
		path := fe.routePath(r.path)
		h := http.Header{}
		if r.who == asOwner && r.page {
			h.Set("Cookie", fe.ownerCookie.Name+"="+fe.ownerCookie.Value)
		} else if r.who == asOwner {
			h.Set("Authorization", "Bearer "+fe.owner.Access)
		}
		rec := fe.serve("GET", path, query, h, nil)
		what := "GET " + path + "?" + query
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want 200 or 400; body %.1000s", what, rec.Code, rec.Body)
		}
		if r.page {
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("%s: a page answers %q", what, ct)
			}
			checkNoLeak(t, what, []byte(query), rec.Body.Bytes())
			return
		}
		checkAnswer(t, what, []byte(query), rec)
		if rec.Code != http.StatusOK {
			if r.paged && wantsPage(query) {
				t.Fatalf("%s: a page number was refused: %s", what, rec.Body)
			}
			return
		}
		var items []json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &items); err != nil || len(items) > r.maxLen {
			t.Fatalf("%s: %d items (%v), want at most %d", what, len(items), err, r.maxLen)
		}
		if !r.paged {
			return
		}
		n := rec.Header().Get("X-Total-Count")
		if !total.MatchString(n) {
			t.Fatalf("%s: X-Total-Count %q", what, n)
		}
		if l := rec.Header().Get("Link"); l != "" {
			for _, part := range strings.Split(l, ", ") {
				m := link.FindStringSubmatch(part)
				if m == nil {
					t.Fatalf("%s: Link %q", what, l)
				}
				if u, err := url.Parse(m[1]); err != nil || u.Host != "" || u.Path != path {
					t.Fatalf("%s: Link to %q", what, m[1])
				}
			}
		}
		if page, ok := pageNumber(query); ok && len(items) > 0 {
			all, _ := strconv.Atoi(n)
			if page.Cmp(big.NewInt(int64(all))) > 0 {
				t.Fatalf("%s: page %s of a list of %d has %d items", what, page, all, len(items))
			}
		}
	})
}

// pageNumber is the page a query asks for, when it asks for one with a
// whole number of at least 1, however large.
func pageNumber(query string) (*big.Int, bool) {
	q, err := url.ParseQuery(query)
	if err != nil || len(q["page"]) == 0 {
		return nil, false
	}
	s := strings.TrimPrefix(strings.TrimSpace(q.Get("page")), "+")
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Sign() < 1 || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return nil, false
	}
	return n, true
}

// wantsPage reports whether a query holds nothing but a valid page
// number and page size, so that a 400 for it could only be about their
// size, which is never wrong.
func wantsPage(query string) bool {
	q, err := url.ParseQuery(query)
	if err != nil || len(q) == 0 {
		return false
	}
	for k := range q {
		if k != "page" && k != "page_size" {
			return false
		}
		s := strings.TrimPrefix(strings.TrimSpace(q.Get(k)), "+")
		if n, ok := new(big.Int).SetString(s, 10); !ok || n.Sign() < 1 || strings.ContainsAny(s, "+-") {
			return false
		}
	}
	return true
}

// fuzzBoundary is the boundary of the multipart bodies FuzzMultipartForms
// sends, so that the fuzzer mutates the parts and not only the framing.
const fuzzBoundary = "maru-fuzz-boundary"

// multipartSeed is a multipart body with fields and, when data is not
// nil, a file under "profile_picture".
func multipartSeed(fields [][2]string, filename string, data []byte) []byte {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.SetBoundary(fuzzBoundary)
	for _, kv := range fields {
		mw.WriteField(kv[0], kv[1])
	}
	if data != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="profile_picture"; filename="`+filename+`"`)
		h.Set("Content-Type", "image/png")
		w, _ := mw.CreatePart(h)
		w.Write(data)
	}
	mw.Close()
	return buf.Bytes()
}

// FuzzMultipartForms fuzzes multipart uploads: the API's profile edit
// (the only way to send a picture) and the pages' forms, which take
// multipart as well as urlencoded bodies. A refusal is a 400 or 413 (a JSON
// one from the API, a page from the pages); what is accepted obeys the
// profile's, post's or room's limits.
func FuzzMultipartForms(f *testing.F) {
	fe := newFuzzEnv(f)
	var buf bytes.Buffer
	png := pngBytesNoT(testImage(40, 30, false), &buf)
	seeds := [][]byte{
		multipartSeed([][2]string{{"nickname", "미나"}, {"status", "공부 중"}, {"is_private", "true"}}, "me.png", png),
		multipartSeed([][2]string{{"contact_number", "010"}, {"is_private", "maybe"}}, "", nil),
		multipartSeed([][2]string{{"profile_picture", ""}}, "", nil),
		multipartSeed([][2]string{{"profile_picture", "x"}}, "", nil),
		multipartSeed(nil, "bad.png", []byte("not a picture")),
		multipartSeed(nil, "head.png", pngHeaderOnly(1<<20, 1<<20)),
		multipartSeed([][2]string{{"title", "제목"}, {"content", "내용\r\n둘째 줄"}, {"tags", "a, b, A"}, {"category", "$CATEGORY"}}, "", nil),
		multipartSeed([][2]string{{"title", ""}, {"content", "x"}}, "", nil),
		multipartSeed([][2]string{{"name", "방"}}, "", nil),
		multipartSeed([][2]string{{"name", strings.Repeat("x", 101)}}, "", nil),
		[]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"nickname\"\r\n\r\nx"),
		[]byte("--" + fuzzBoundary + "--\r\n"), []byte("garbage"), nil,
	}
	routes := []struct {
		method, path string
		page         bool
	}{
		{"PATCH", "/mysite/user/v1/profile/edit/", false},
		{"PUT", "/mysite/user/v1/profile/edit/", false},
		{"POST", "/profile/edit", true},
		{"POST", "/posts/new", true},
		{"POST", "/chat", true},
	}
	for _, s := range seeds {
		for i := range routes {
			f.Add(uint8(i), s)
		}
	}
	owner := &fuzzCaller{access: fe.owner.Access}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		r := routes[int(which)%len(routes)]
		body = fe.fill(t, body, nil)
		h := http.Header{"Content-Type": {"multipart/form-data; boundary=" + fuzzBoundary}}
		if r.page {
			h.Set("Cookie", fe.ownerCookie.Name+"="+fe.ownerCookie.Value)
			h.Set("Sec-Fetch-Site", "same-origin")
		} else {
			h.Set("Authorization", "Bearer "+fe.owner.Access)
		}
		rec := fe.serve(r.method, r.path, "", h, body)
		what := r.method + " " + r.path
		switch {
		case !r.page:
			checkAnswer(t, what, body, rec)
			if rec.Code == http.StatusOK {
				var p profileJSON
				json.Unmarshal(rec.Body.Bytes(), &p)
				checkProfile(t, p)
			}
		case rec.Code == http.StatusSeeOther:
			loc := rec.Header().Get("Location")
			if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
				t.Fatalf("%s: redirect to %q", what, loc)
			}
			if id, ok := strings.CutPrefix(loc, "/posts/"); ok {
				var p postJSON
				fe.get(t, "/api/post/detail/"+id+"/edit/", owner, &p)
				checkPost(t, p)
			}
		case rec.Code == http.StatusOK || rec.Code == http.StatusBadRequest || rec.Code == http.StatusRequestEntityTooLarge:
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("%s: status %d as %q", what, rec.Code, ct)
			}
			checkNoLeak(t, what, body, rec.Body.Bytes())
		default:
			t.Fatalf("%s with %q: status %d; body %.1000s", what, body, rec.Code, rec.Body)
		}
		if r.path == "/profile/edit" && rec.Code == http.StatusSeeOther {
			var p profileJSON
			fe.get(t, "/mysite/user/v1/profile/", owner, &p)
			checkProfile(t, p)
		}
	})
}

// FuzzTokens fuzzes the token parser with random strings and with
// mutations of real tokens: only a token this server signed, unchanged,
// of the right kind and unexpired, is ever accepted, in the parser and at
// the door (the Authorization header and the refresh route). The server
// signs with a fixed key and clock here, so that the tokens, and the
// crashers found by mutating them, are the same in every run.
func FuzzTokens(f *testing.F) {
	fe := newFuzzEnv(f)
	ta := fe.server.tokens
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ta.secret = []byte("a fixed key for the fuzz target!")
	ta.now = func() time.Time { return t0 }
	sign := func(ta *tokenAuthority, kind string, issued time.Time, ttl time.Duration) string {
		tok, err := ta.sign(&tokenClaims{TokenType: kind, UserID: fe.owner.ID, RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(issued.Add(ttl)), IssuedAt: jwt.NewNumericDate(issued), ID: "fuzz-" + kind,
		}})
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	access, refresh := sign(ta, tokenAccess, t0, time.Minute), sign(ta, tokenRefresh, t0, time.Hour)
	if err := fe.store.AddRefreshToken(context.Background(), "fuzz-"+tokenRefresh, fe.owner.ID, t0.Add(time.Hour)); err != nil {
		f.Fatal(err)
	}
	expired := sign(ta, tokenAccess, t0.Add(-time.Hour), time.Minute)
	forged := sign(&tokenAuthority{secret: []byte("not our key")}, tokenAccess, t0, time.Minute)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	for _, tok := range []string{access, refresh, expired, forged} {
		f.Add(tok)
		parts := strings.Split(tok, ".")
		f.Add(none + "." + parts[1] + ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(strings.ToUpper(tok))
		for i := range parts {
			mutated := slices.Clone(parts)
			mutated[i] = mutated[i][:len(mutated[i])-1] + "A"
			f.Add(strings.Join(mutated, "."))
		}
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "Bearer x", "\x00", "eyJ.eyJ.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if c, ok := ta.parse(raw, tokenAccess); ok && (raw != access || c.UserID != fe.owner.ID) {
			t.Fatalf("accepted %q as an access token of user %d", raw, c.UserID)
		}
		if _, ok := ta.parse(raw, tokenRefresh); ok && raw != refresh {
			t.Fatalf("accepted %q as a refresh token", raw)
		}
		h := http.Header{"Authorization": {"Bearer " + raw}}
		rec := fe.serve("GET", "/mysite/user/v1/profile/", "", h, nil)
		want := http.StatusUnauthorized
		if raw == access {
			want = http.StatusOK
		}
		if rec.Code != want {
			t.Fatalf("Bearer %q: status %d, want %d; %s", raw, rec.Code, want, rec.Body)
		}
		body, _ := json.Marshal(map[string]string{"refresh": raw})
		rec = fe.api("POST", "/user/token/refresh/", nil, body)
		checkAnswer(t, "refresh", body, rec)
		if rec.Code == http.StatusOK && raw != refresh {
			t.Fatalf("refreshed with %q", raw)
		}
	})
}
