package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// frameWait is the generous bound within which a frame must arrive.
const frameWait = 2 * time.Second

func (e *testEnv) createRoom(u *testUser, name string) roomJSON {
	e.t.Helper()
	var room roomJSON
	e.do("POST", "/api/chat/room/", u.Access, map[string]string{"name": name}).wantStatus(http.StatusCreated).decode(&room)
	return room
}

func (e *testEnv) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(e.http.URL, "http") + path
}

// dialChat opens a room's socket with the bearer token of u.
func (e *testEnv) dialChat(u *testUser, roomID int64) *testSocket {
	e.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + u.Access}}
	return e.dialWith(fmt.Sprintf("/ws/chat/%d/chat/", roomID), h)
}

func (e *testEnv) dialWith(path string, h http.Header) *testSocket {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), frameWait)
	defer cancel()
	c, res, err := websocket.Dial(ctx, e.wsURL(path), &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		e.t.Fatalf("dial %s: %v (status %d)", path, err, status)
	}
	c.SetReadLimit(1 << 20)
	e.t.Cleanup(func() { c.CloseNow() })
	return &testSocket{t: e.t, c: c}
}

// testSocket is a client's chat socket.
type testSocket struct {
	t testing.TB
	c *websocket.Conn
}

func (s *testSocket) send(v any) {
	s.t.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			s.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), frameWait)
	defer cancel()
	if err := s.c.Write(ctx, websocket.MessageText, b); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

func (s *testSocket) say(msg string) {
	s.send(map[string]string{"type": "chat.message", "message": msg})
}

// next reads the next frame as raw JSON.
func (s *testSocket) next() string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), frameWait)
	defer cancel()
	_, b, err := s.c.Read(ctx)
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return string(b)
}

// nextOf reads frames until one of type typ comes, and returns it decoded.
func (s *testSocket) nextOf(typ string) map[string]any {
	s.t.Helper()
	for {
		var v map[string]any
		raw := s.next()
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			s.t.Fatalf("frame %s: %v", raw, err)
		}
		if v["type"] == typ || (typ == "error" && v["error_type"] != nil) {
			return v
		}
	}
}

// closed waits for the server to end the socket and returns its close code.
func (s *testSocket) closed() websocket.StatusCode {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := s.c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				s.t.Fatal("socket still open")
			}
			return websocket.CloseStatus(err)
		}
	}
}

func TestChatRooms(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	room := e.createRoom(u, "  Lobby ")
	if room.Name != "Lobby" || room.ChatURL != fmt.Sprintf("/ws/chat/%d/chat/", room.ID) || room.CreatedAt == "" {
		t.Fatalf("created room %+v", room)
	}
	one := fmt.Sprintf("/api/chat/room/%d/", room.ID)
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		want                      []string
	}{
		{"create needs login", "POST", "/api/chat/room/", "", map[string]string{"name": "x"}, 401, []string{msgNotAuthenticated}},
		{"create without name", "POST", "/api/chat/room/", u.Access, map[string]string{}, 400, []string{`"name":["This field is required."]`}},
		{"create blank name", "POST", "/api/chat/room", u.Access, map[string]string{"name": " "}, 400, []string{`"name":["This field may not be blank."]`}},
		{"create long name", "POST", "/api/chat/room/", u.Access, map[string]string{"name": strings.Repeat("x", 101)}, 400, []string{`"name"`}},
		{"create two-line name", "POST", "/api/chat/room/", u.Access, map[string]string{"name": "a\nb"}, 400, []string{`"name"`, "line breaks"}},
		{"list", "GET", "/api/chat/room/", u.Access, nil, 200, []string{`"name":"Lobby"`, `"chat_url":"` + room.ChatURL + `"`}},
		{"list needs login", "GET", "/api/chat/room", "", nil, 401, nil},
		{"get one", "GET", one, u.Access, nil, 200, []string{fmt.Sprintf(`"id":%d`, room.ID), `"created_at"`}},
		{"post one (the seed's way)", "POST", strings.TrimSuffix(one, "/"), u.Access, nil, 200, []string{`"name":"Lobby"`}},
		{"get one needs login", "GET", one, "", nil, 401, nil},
		{"unknown room", "GET", "/api/chat/room/999/", u.Access, nil, 404, []string{msgNotFound}},
		{"non-numeric room", "POST", "/api/chat/room/abc/", u.Access, nil, 404, []string{msgNotFound}},
		{"bad token", "GET", "/api/chat/room/", "garbage", nil, 401, []string{"token_not_valid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do(tt.method, tt.path, tt.token, tt.body).wantStatus(tt.status).wantBody(tt.want...)
		})
	}
}

func TestChatMessageAPI(t *testing.T) {
	e := newTestEnvWith(t, Config{ChatMaxLen: 10})
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	tests := []struct {
		name   string
		token  string
		body   any
		status int
		want   []string
	}{
		{"needs login", "", map[string]any{"message": "hi", "room": room.ID}, 401, nil},
		{"missing room", u.Access, map[string]any{"type": "chat.message", "message": "hi"}, 400, []string{`"room":["This field is required."]`}},
		{"unknown room", u.Access, map[string]any{"message": "hi", "room": 999}, 400, []string{`"room":["Invalid pk \"999\" - object does not exist."]`}},
		{"room of wrong type", u.Access, map[string]any{"message": "hi", "room": true}, 400, []string{`"room"`}},
		{"missing message", u.Access, map[string]any{"room": room.ID}, 400, []string{`"message":["This field is required."]`}},
		{"empty message", u.Access, map[string]any{"message": "  ", "room": room.ID}, 400, []string{`"message":["This field may not be blank."]`}},
		{"too long", u.Access, map[string]any{"message": strings.Repeat("가", 11), "room": room.ID}, 400, []string{`no more than 10 characters`}},
		{"unknown type", u.Access, map[string]any{"type": "chat.nope", "message": "hi", "room": room.ID}, 400, []string{`"type"`}},
		{"several errors at once", u.Access, map[string]any{}, 400, []string{`"room"`, `"message"`}},
		{"not JSON", u.Access, "{", 400, []string{"JSON parse error"}},
		{"stored", u.Access, map[string]any{"type": "chat.message", "message": " hi ", "room": room.ID}, 201,
			[]string{`"type":"chat.message"`, `"message":"hi"`, `"sender":"ann@example.com"`, `"nickname":"ann"`, `"profile_picture_url":null`, fmt.Sprintf(`"room":%d`, room.ID)}},
		{"room as a string", u.Access, map[string]any{"message": "hi", "room": fmt.Sprint(room.ID)}, 201, nil},
		{"exactly the limit, in characters", u.Access, map[string]any{"message": strings.Repeat("가", 10), "room": room.ID}, 201, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "/api/chat/message/", tt.token, tt.body).wantStatus(tt.status).wantBody(tt.want...)
		})
	}
}

func TestChatHistory(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	other := e.createRoom(u, "Other")
	var ids []int64
	for i := range 5 {
		var m messageJSON
		e.do("POST", "/api/chat/message/", u.Access, map[string]any{"message": fmt.Sprint("m", i), "room": room.ID}).
			wantStatus(201).decode(&m)
		ids = append(ids, m.ID)
		e.do("POST", "/api/chat/message/", u.Access, map[string]any{"message": "x", "room": other.ID}).wantStatus(201)
	}
	path := fmt.Sprintf("/api/chat/room/%d/messages/", room.ID)
	tests := []struct {
		query string
		want  []int64
	}{
		{"", ids},
		{"?limit=2", ids[3:]},
		{fmt.Sprintf("?before=%d&limit=2", ids[3]), ids[1:3]},
		{fmt.Sprintf("?before=%d", ids[0]), nil},
		{"?limit=100000", ids},                               // clamped to 200, not refused
		{fmt.Sprintf("?after=%d&limit=2", ids[0]), ids[1:3]}, // the oldest after, newest last
		{fmt.Sprintf("?after=%d&limit=2", ids[2]), ids[3:]},
		{fmt.Sprintf("?after=%d", ids[4]), nil},
	}
	for _, tt := range tests {
		var got []messageJSON
		e.do("GET", path+tt.query, u.Access, nil).wantStatus(200).decode(&got)
		var gotIDs []int64
		for _, m := range got {
			gotIDs = append(gotIDs, m.ID)
			if m.Room != room.ID || m.Sender != u.Email || m.Type != "chat.message" {
				t.Errorf("history item %+v", m)
			}
		}
		if fmt.Sprint(gotIDs) != fmt.Sprint(tt.want) {
			t.Errorf("history%s = %v, want %v", tt.query, gotIDs, tt.want)
		}
	}
	e.do("GET", path+"?limit=0", u.Access, nil).wantStatus(400).wantBody(`"limit"`)
	e.do("GET", path+"?after=0", u.Access, nil).wantStatus(400).wantBody(`"after":["A valid integer is required."]`)
	e.do("GET", fmt.Sprintf("%s?before=%d&after=%d", path, ids[3], ids[0]), u.Access, nil).
		wantStatus(400).wantBody(`"non_field_errors":["Give before or after, not both."]`)
	e.do("GET", path+"?before=abc", u.Access, nil).wantStatus(400).wantBody(`"before":["A valid integer is required."]`)
	e.do("GET", path, "", nil).wantStatus(401)
	e.do("GET", "/api/chat/room/999/messages/", u.Access, nil).wantStatus(404)
	e.do("GET", strings.TrimSuffix(path, "/"), u.Access, nil).wantStatus(200).wantBody(`"message":"m4"`)
}

func TestChatSocketAuth(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	path := fmt.Sprintf("/ws/chat/%d/chat/", room.ID)
	cookie := e.sessionCookie(u).String()
	tests := []struct {
		name   string
		path   string
		header http.Header
		status int // 0: the upgrade succeeds
		want   string
	}{
		{"no credentials", path, nil, 401, msgNotAuthenticated},
		{"bad bearer token", path, http.Header{"Authorization": {"Bearer nope"}}, 401, "token_not_valid"},
		{"bad query token", path + "?token=nope", nil, 401, "token_not_valid"},
		{"refresh token is not an access token", path + "?token=" + u.Refresh, nil, 401, "token_not_valid"},
		{"unknown room", "/ws/chat/999/chat/", http.Header{"Authorization": {"Bearer " + u.Access}}, 404, msgNotFound},
		{"unknown room needs login first", "/ws/chat/999/chat/", nil, 401, msgNotAuthenticated},
		{"cookie from a foreign origin", path, http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}}, 403, "Cross-origin"},
		{"bearer header", path, http.Header{"Authorization": {"Bearer " + u.Access}}, 0, ""},
		{"query token", path + "?token=" + u.Access, nil, 0, ""},
		{"query token from a foreign origin", path + "?token=" + u.Access, http.Header{"Origin": {"https://evil.example"}}, 0, ""},
		{"cookie", path, http.Header{"Cookie": {cookie}}, 0, ""},
		{"cookie from our own origin", path, http.Header{"Cookie": {cookie}, "Origin": {e.http.URL}}, 0, ""},
		{"without trailing slash", strings.TrimSuffix(path, "/"), http.Header{"Authorization": {"Bearer " + u.Access}}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), frameWait)
			defer cancel()
			c, res, err := websocket.Dial(ctx, e.wsURL(tt.path), &websocket.DialOptions{HTTPHeader: tt.header})
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				defer c.CloseNow()
				_, b, err := c.Read(ctx)
				if err != nil || !strings.Contains(string(b), `"type":"chat.presence"`) {
					t.Fatalf("first frame %s, %v; want chat.presence", b, err)
				}
				return
			}
			if err == nil {
				c.CloseNow()
				t.Fatalf("upgrade succeeded, want %d", tt.status)
			}
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Fatalf("got %d %s, want %d with %q", res.StatusCode, body, tt.status, tt.want)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q, want JSON", ct)
			}
		})
	}
}

// TestChatSocketFrames follows two users, one with two tabs, through
// presence, join, messages and leave.
func TestChatSocketFrames(t *testing.T) {
	e := newTestEnv(t)
	ann := e.register("ann@example.com")
	bob := e.register("bob@example.com")
	room := e.createRoom(ann, "Lobby")

	a := e.dialChat(ann, room.ID)
	if got, want := a.next(), fmt.Sprintf(`{"type":"chat.presence","users":[{"id":%d,"username":"ann"}]}`, ann.ID); got != want {
		t.Fatalf("presence %s, want %s", got, want)
	}
	if got := a.next(); got != `{"type":"chat.user.join","username":"ann"}` {
		t.Fatalf("own join %s", got)
	}

	b1 := e.dialChat(bob, room.ID)
	wantPresence := fmt.Sprintf(`{"type":"chat.presence","users":[{"id":%d,"username":"ann"},{"id":%d,"username":"bob"}]}`, ann.ID, bob.ID)
	if got := b1.next(); got != wantPresence {
		t.Fatalf("presence %s, want %s", got, wantPresence)
	}
	if got := a.next(); got != `{"type":"chat.user.join","username":"bob"}` {
		t.Fatalf("ann saw %s, want bob's join", got)
	}
	b1.nextOf("chat.user.join")

	b2 := e.dialChat(bob, room.ID) // a second tab: no second join
	if got := b2.next(); got != wantPresence {
		t.Fatalf("second tab presence %s", got)
	}

	b2.say("Hello, World!")
	for name, s := range map[string]*testSocket{"ann": a, "bob tab 1": b1, "bob tab 2 (the sender)": b2} {
		raw := s.next() // no join frame may come before: the second tab did not join again
		var m messageJSON
		if err := json.Unmarshal([]byte(raw), &m); err != nil || m.Type != "chat.message" {
			t.Fatalf("%s got %s, want the message", name, raw)
		}
		if m.ID == 0 || m.Room != room.ID || m.Message != "Hello, World!" || m.Sender != bob.Email ||
			m.Nickname != "bob" || m.ProfilePictureURL != nil || !strings.HasSuffix(m.CreatedAt, "Z") {
			t.Fatalf("%s got %s", name, raw)
		}
		for _, key := range []string{"id", "room", "message", "sender", "nickname", "profile_picture_url", "created_at"} {
			if !strings.Contains(raw, `"`+key+`":`) {
				t.Fatalf("%s: frame %s lacks %q", name, raw, key)
			}
		}
	}

	// Closing one of bob's tabs is not leaving; closing the last is.
	b2.c.Close(websocket.StatusNormalClosure, "")
	a.say("still here?")
	if got := a.nextOf("chat.message"); got["message"] != "still here?" {
		t.Fatalf("got %v", got)
	}
	b1.c.Close(websocket.StatusNormalClosure, "")
	if got := a.next(); got != `{"type":"chat.user.leave","username":"bob"}` {
		t.Fatalf("got %s, want bob's leave (and no leave for the first tab)", got)
	}
}

func TestChatSocketErrorFrames(t *testing.T) {
	e := newTestEnvWith(t, Config{ChatMaxLen: 20, ChatRate: -1})
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	s := e.dialChat(u, room.ID)
	s.nextOf("chat.user.join")
	tests := []struct {
		name    string
		frame   []byte
		errType string
	}{
		{"not JSON", []byte("hello"), "invalid_request"},
		{"JSON but not an object", []byte(`["chat.message"]`), "invalid_request"},
		{"unknown type", []byte(`{"type":"chat.shout","message":"hi"}`), "invalid_request"},
		{"no type", []byte(`{"message":"hi"}`), "invalid_request"},
		{"no message", []byte(`{"type":"chat.message"}`), "invalid_request"},
		{"message not a string", []byte(`{"type":"chat.message","message":42}`), "invalid_request"},
		{"empty message", []byte(`{"type":"chat.message","message":""}`), "invalid_request"},
		{"blank message", []byte(`{"type":"chat.message","message":" \n "}`), "invalid_request"},
		{"control characters", []byte(`{"type":"chat.message","message":"a\u0000b"}`), "invalid_request"},
		{"over-long message", []byte(`{"type":"chat.message","message":"` + strings.Repeat("x", 21) + `"}`), "message_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.send(tt.frame)
			got := s.next()
			var v map[string]string
			if err := json.Unmarshal([]byte(got), &v); err != nil || v["error_type"] != tt.errType || v["message"] == "" || len(v) != 2 {
				t.Fatalf("got %s, want an error frame of type %s", got, tt.errType)
			}
			if tt.errType == "invalid_request" && v["message"] != "Invalid message format." {
				t.Fatalf("got %s", got)
			}
		})
	}
	// The socket still works after all of that.
	s.say(strings.Repeat("x", 20))
	if m := s.nextOf("chat.message"); m["message"] != strings.Repeat("x", 20) {
		t.Fatalf("got %v", m)
	}
	var hist []messageJSON
	e.do("GET", fmt.Sprintf("/api/chat/room/%d/messages/", room.ID), u.Access, nil).decode(&hist)
	if len(hist) != 1 {
		t.Fatalf("history holds %d messages, want only the valid one", len(hist))
	}
}

func TestChatSocketReadLimit(t *testing.T) {
	e := newTestEnvWith(t, Config{ChatMaxLen: 10})
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	s := e.dialChat(u, room.ID)
	s.send([]byte(`{"type":"chat.message","message":"` + strings.Repeat("x", 10*12+2000) + `"}`))
	if code := s.closed(); code != websocket.StatusMessageTooBig {
		t.Fatalf("close code %d, want %d", code, websocket.StatusMessageTooBig)
	}
}

func TestChatRateLimit(t *testing.T) {
	e := newTestEnvWith(t, Config{ChatRate: 0.01}) // a burst of 1, then nothing for 100 s
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	s := e.dialChat(u, room.ID)
	s.nextOf("chat.user.join")
	s.say("one")
	s.nextOf("chat.message")
	s.say("two")
	if v := s.nextOf("error"); v["error_type"] != "rate_limited" {
		t.Fatalf("got %v, want rate_limited", v)
	}
	// Keeping on regardless is abuse: the socket is closed.
	for range rateStrikes {
		s.say("more")
	}
	if code := s.closed(); code != websocket.StatusPolicyViolation {
		t.Fatalf("close code %d, want %d", code, websocket.StatusPolicyViolation)
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newRateLimiter(2, func() time.Time { return now })
	allowed := 0
	for range 10 {
		if l.allow() {
			allowed++
		}
	}
	if allowed != 4 {
		t.Fatalf("burst allowed %d, want 4 (twice the rate)", allowed)
	}
	now = now.Add(time.Second)
	if !l.allow() || !l.allow() || l.allow() {
		t.Fatal("after a second, want exactly 2 more")
	}
	off := newRateLimiter(-1, time.Now)
	for range 1000 {
		if !off.allow() {
			t.Fatal("a negative rate must turn the limit off")
		}
	}
}

func TestChatRESTBroadcast(t *testing.T) {
	e := newTestEnv(t)
	ann := e.register("ann@example.com")
	bob := e.register("bob@example.com")
	room := e.createRoom(ann, "Lobby")
	s := e.dialChat(bob, room.ID)
	s.nextOf("chat.user.join")
	res := e.do("POST", "/api/chat/message/", ann.Access, map[string]any{"type": "chat.message", "message": "via REST", "room": room.ID}).
		wantStatus(http.StatusCreated)
	if got, want := s.next(), strings.TrimSpace(string(res.Body)); got != want {
		t.Fatalf("socket got %s, want what the POST answered: %s", got, want)
	}
}

// TestChatSlowClient: a client that never reads must not hold up anyone
// else, and is dropped.
func TestChatSlowClient(t *testing.T) {
	// Small fixed socket buffers on both ends (fixed also stops the kernel
	// from growing them) make a client that does not read felt soon.
	e := startEnv(t, envOptions{
		cfg:  Config{ChatRate: -1, ChatMaxLen: 64 << 10, ChatQueue: 8, ChatWriteTimeout: 500 * time.Millisecond},
		wrap: func(ln net.Listener) net.Listener { return smallBuffers{ln} },
	})
	ann := e.register("ann@example.com")
	sloth := e.register("sloth@example.com")
	room := e.createRoom(ann, "Lobby")
	a := e.dialChat(ann, room.ID)
	a.nextOf("chat.user.join")
	// The sloth never reads again.
	ctx, cancel := context.WithTimeout(context.Background(), frameWait)
	defer cancel()
	tinyBuffer := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := new(net.Dialer).DialContext(ctx, network, addr)
		if err == nil {
			err = c.(*net.TCPConn).SetReadBuffer(16 << 10)
		}
		return c, err
	}}}
	slow, _, err := websocket.Dial(ctx, e.wsURL(fmt.Sprintf("/ws/chat/%d/chat/?token=%s", room.ID, sloth.Access)),
		&websocket.DialOptions{HTTPClient: tinyBuffer})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer slow.CloseNow()
	a.nextOf("chat.user.join")

	// More bytes than both socket buffers can hold. Each
	// message must reach ann within frameWait however stuck the sloth is.
	big := strings.Repeat("x", 60<<10)
	slothLeft := false
	for i := range 40 {
		a.say(fmt.Sprint(i, big))
		for {
			var m map[string]any
			json.Unmarshal([]byte(a.next()), &m)
			if m["type"] == "chat.user.leave" && m["username"] == "sloth" {
				slothLeft = true
			}
			if m["type"] == "chat.message" {
				if !strings.HasPrefix(m["message"].(string), fmt.Sprint(i, "x")) {
					t.Fatalf("message %d: got another", i)
				}
				break
			}
		}
	}
	if !slothLeft {
		if got := a.nextOf("chat.user.leave"); got["username"] != "sloth" {
			t.Fatalf("got %v, want sloth to be dropped", got)
		}
	}
}

// TestChatDeadPeer: a peer that answers no ping is found and dropped.
func TestChatDeadPeer(t *testing.T) {
	e := newTestEnvWith(t, Config{ChatPingInterval: 50 * time.Millisecond, ChatWriteTimeout: 300 * time.Millisecond})
	ann := e.register("ann@example.com")
	ghost := e.register("ghost@example.com")
	room := e.createRoom(ann, "Lobby")
	a := e.dialChat(ann, room.ID)
	a.nextOf("chat.user.join")
	e.dialChat(ghost, room.ID) // a client that never reads answers no ping
	a.nextOf("chat.user.join")
	// ann keeps reading, so she answers pings and stays; the ghost goes.
	if got := a.nextOf("chat.user.leave"); got["username"] != "ghost" {
		t.Fatalf("got %v, want the ghost to leave", got)
	}
	time.Sleep(200 * time.Millisecond) // several more pings
	a.say("alive")
	if m := a.nextOf("chat.message"); m["message"] != "alive" {
		t.Fatalf("got %v", m)
	}
}

func TestChatShutdownClosesWithGoingAway(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	s := e.dialChat(u, room.ID)
	s.nextOf("chat.user.join")
	s.say("last words")
	s.nextOf("chat.message")
	done := make(chan struct{})
	go func() {
		e.server.Close()
		close(done)
	}()
	if code := s.closed(); code != websocket.StatusGoingAway {
		t.Fatalf("close code %d, want %d", code, websocket.StatusGoingAway)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Server.Close did not return")
	}
}

// TestChatHistoryAfterRestart: every message a client saw is in the
// history of a new server on the same file.
func TestChatHistoryAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	e1 := newTestEnvFull(t, path, Config{ChatRate: -1})
	u := e1.register("ann@example.com")
	room := e1.createRoom(u, "Lobby")
	s := e1.dialChat(u, room.ID)
	s.nextOf("chat.user.join")
	var seen []string
	for i := range 20 {
		s.say(fmt.Sprint("m", i))
		m := s.nextOf("chat.message")
		seen = append(seen, fmt.Sprint(m["id"], m["message"]))
	}
	s.c.Close(websocket.StatusNormalClosure, "")
	e1.close()

	e2 := newTestEnvFull(t, path, Config{ChatRate: -1})
	var hist []messageJSON
	e2.do("GET", fmt.Sprintf("/api/chat/room/%d/messages/", room.ID), u.Access, nil).wantStatus(200).decode(&hist)
	var got []string
	for _, m := range hist {
		got = append(got, fmt.Sprint(m.ID, m.Message))
	}
	if fmt.Sprint(got) != fmt.Sprint(seen) {
		t.Fatalf("history after restart %v, want %v", got, seen)
	}
}

// smallBuffers gives every accepted connection a 16 KiB send buffer.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		err = c.(*net.TCPConn).SetWriteBuffer(16 << 10)
	}
	return c, err
}

// A burst larger than one write batch reaches the socket whole and in
// order: the writer must never take a frame off the queue and drop it.
func TestChatSocketDeliversWholeBurst(t *testing.T) {
	e := newTestEnvWith(t, Config{ChatQueue: 1024})
	u := e.register("burst@example.com")
	room := e.createRoom(u, "Burst")
	sock := e.dialChat(u, room.ID)
	sock.nextOf("chat.presence")
	sock.nextOf("chat.user.join")
	const n = 5*writeBatch + 7
	for i := range n {
		e.server.publish.Publish(room.ID, fmt.Appendf(nil, `{"type":"test","n":%d}`, i))
	}
	for i := range n {
		var f struct{ N int }
		if err := json.Unmarshal([]byte(sock.next()), &f); err != nil || f.N != i {
			t.Fatalf("frame %d of the burst: got n=%d (%v)", i, f.N, err)
		}
	}
}
