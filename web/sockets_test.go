package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// dialRefused tries to open a room's socket with h and returns the HTTP
// answer that refused the upgrade.
func (e *testEnv) dialRefused(roomID int64, h http.Header) (int, string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), frameWait)
	defer cancel()
	c, res, err := websocket.Dial(ctx, e.wsURL(fmt.Sprintf("/ws/chat/%d/chat/", roomID)), &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		c.CloseNow()
		e.t.Fatal("socket opened, want it refused")
	}
	if res == nil {
		e.t.Fatalf("dial: %v, with no answer", err)
	}
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Retry-After") + " " + string(body)
}

func bearer(u *testUser) http.Header { return http.Header{"Authorization": {"Bearer " + u.Access}} }

// A user may have ChatSockets sockets open; the next is refused with 429
// before the upgrade, and a closed one frees its place. Other users are
// not counted against it.
func TestChatSocketsPerUser(t *testing.T) {
	e := newTestEnvWith(t, Config{ChatSockets: 2})
	ann, bob := e.register("ann@example.com"), e.register("bob@example.com")
	room := e.createRoom(ann, "Lobby")
	first := e.dialChat(ann, room.ID)
	e.dialChat(ann, room.ID)
	status, body := e.dialRefused(room.ID, bearer(ann))
	if status != http.StatusTooManyRequests || !strings.Contains(body, `{"detail":"Too many chat sockets open`) || !strings.HasPrefix(body, "10 ") {
		t.Fatalf("third socket: %d %s, want 429 with Retry-After and a detail", status, body)
	}
	e.dialChat(bob, room.ID)

	first.c.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), frameWait)
		c, _, err := websocket.Dial(ctx, e.wsURL(fmt.Sprintf("/ws/chat/%d/chat/", room.ID)), &websocket.DialOptions{HTTPHeader: bearer(ann)})
		cancel()
		if err == nil {
			c.CloseNow()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed socket never gave its place back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	off := newTestEnvWith(t, Config{ChatSockets: -1})
	u := off.register("many@example.com")
	r := off.createRoom(u, "Lobby")
	for range 30 {
		off.dialChat(u, r.ID)
	}
}

// Logging out ends the sockets opened with that browser session (close
// 4401), and only those: the same user's token socket and other session
// stay open.
func TestLogoutClosesSessionSockets(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	cookie, other := e.sessionCookie(u), e.sessionCookie(u)
	path := fmt.Sprintf("/ws/chat/%d/chat/", room.ID)
	inSession := e.dialWith(path, http.Header{"Cookie": {cookie.String()}})
	inSession2 := e.dialWith(path, http.Header{"Cookie": {cookie.String()}})
	otherSession := e.dialWith(path, http.Header{"Cookie": {other.String()}})
	byToken := e.dialChat(u, room.ID)

	req, _ := http.NewRequest("POST", e.http.URL+"/user/logout/", nil)
	req.AddCookie(cookie)
	e.send(req).wantStatus(http.StatusOK)
	for _, s := range []*testSocket{inSession, inSession2} {
		if code := s.closed(); code != statusCredentialsGone {
			t.Fatalf("session socket closed with %d, want %d", code, statusCredentialsGone)
		}
	}
	for _, s := range []*testSocket{otherSession, byToken} {
		s.say("still here")
		if got := s.nextOf("chat.message"); got["message"] != "still here" {
			t.Fatalf("socket of another session or a token: %v", got)
		}
	}
	// The session is gone: its cookie opens no new socket.
	if status, _ := e.dialRefused(room.ID, http.Header{"Cookie": {cookie.String()}}); status != http.StatusUnauthorized {
		t.Fatalf("socket with a logged-out cookie: %d, want 401", status)
	}
}

// CloseUserSockets, for closing an account, ends every socket of the user,
// by session or token, and nobody else's.
func TestCloseUserSockets(t *testing.T) {
	e := newTestEnv(t)
	ann, bob := e.register("ann@example.com"), e.register("bob@example.com")
	room := e.createRoom(ann, "Lobby")
	path := fmt.Sprintf("/ws/chat/%d/chat/", room.ID)
	annSockets := []*testSocket{
		e.dialChat(ann, room.ID),
		e.dialWith(path, http.Header{"Cookie": {e.sessionCookie(ann).String()}}),
	}
	bobs := e.dialChat(bob, room.ID)
	bobs.nextOf("chat.presence") // bob is in the room before ann goes
	e.server.CloseUserSockets(ann.ID)
	for _, s := range annSockets {
		if code := s.closed(); code != statusCredentialsGone {
			t.Fatalf("closed with %d, want %d", code, statusCredentialsGone)
		}
	}
	bobs.nextOf("chat.user.leave")
	bobs.say("alone")
	if got := bobs.nextOf("chat.message"); got["message"] != "alone" {
		t.Fatalf("another user's socket: %v", got)
	}
}
