package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"maru/store"
)

// The chat pages are for members: a visitor is sent to log in and back.
func TestChatPagesNeedLogin(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	b := e.browser()
	for _, path := range []string{"/chat", fmt.Sprintf("/chat/%d", room.ID)} {
		res := b.get(path).wantStatus(http.StatusSeeOther)
		if loc, want := res.Header.Get("Location"), "/login?next="+url.QueryEscape(path); loc != want {
			t.Errorf("GET %s went to %q, want %q", path, loc, want)
		}
	}
	res := b.post(fmt.Sprintf("/chat/%d", room.ID), url.Values{"message": {"anonymous"}}).wantStatus(http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
		t.Errorf("POST went to %q, want the login page", loc)
	}
	b.post("/chat", url.Values{"name": {"Anonymous"}}).wantStatus(http.StatusSeeOther)
	var hist []messageJSON
	e.do("GET", fmt.Sprintf("/api/chat/room/%d/messages/", room.ID), u.Access, nil).wantStatus(200).decode(&hist)
	var rooms []roomJSON
	e.do("GET", "/api/chat/room/", u.Access, nil).wantStatus(200).decode(&rooms)
	if len(hist) != 0 || len(rooms) != 1 {
		t.Fatalf("a visitor's posts changed something: %d messages, %d rooms", len(hist), len(rooms))
	}
}

// /chat lists the rooms, each linking to its page, paged.
func TestChatRoomsPage(t *testing.T) {
	e := newTestEnv(t)
	e.register("ann@example.com")
	b := e.browser()
	b.login("ann@example.com")
	b.get("/chat").wantStatus(http.StatusOK).wantBody("No rooms yet.", `action="/chat"`, `for="room-name"`)

	ctx := context.Background()
	var ids []int64
	for i := range roomsPageSize + 2 {
		r, err := e.store.CreateRoom(ctx, 1, fmt.Sprintf("room <%d>", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	b.get("/chat").wantStatus(http.StatusOK).
		wantBody(fmt.Sprintf(`<a class="room-name grow" href="/chat/%d">room &lt;0&gt;</a>`, ids[0]), `rel="next" href="/chat?page=2"`, "32 rooms").
		wantNoBody(fmt.Sprintf(`href="/chat/%d"`, ids[roomsPageSize]))
	b.get("/chat?page=2").wantStatus(http.StatusOK).
		wantBody(fmt.Sprintf(`href="/chat/%d"`, ids[roomsPageSize+1])).
		wantNoBody(fmt.Sprintf(`href="/chat/%d"`, ids[0]))
	b.get("/chat?page=0").wantStatus(http.StatusBadRequest)
}

// A refused room name comes back in the form with the reason; a good one
// makes the room and goes to it.
func TestChatCreateRoomPage(t *testing.T) {
	e := newTestEnv(t)
	e.register("ann@example.com")
	b := e.browser()
	b.login("ann@example.com")
	tests := []struct {
		name, value, want string
	}{
		{"blank", "   ", "This field may not be blank."},
		{"too long", strings.Repeat("가", store.MaxRoomNameLen+1), "Keep it to 100 characters."},
		{"control character", "bad\x07name", "This field may not contain control characters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.post("/chat", url.Values{"name": {tt.value}}).wantStatus(http.StatusBadRequest).
				wantBody(tt.want, `aria-invalid="true"`, `aria-describedby="room-name-err"`)
		})
	}
	// What was typed comes back escaped.
	b.post("/chat", url.Values{"name": {"<b>x</b>\x07"}}).wantStatus(http.StatusBadRequest).wantBody(`value="&lt;b&gt;x&lt;/b&gt;`).wantNoBody("<b>x</b>")
	if n, _, _ := e.store.RoomsPage(context.Background(), 1, 10); len(n) != 0 {
		t.Fatalf("refused names made %d rooms", len(n))
	}

	res := b.post("/chat", url.Values{"name": {"  Lobby  "}}).wantStatus(http.StatusSeeOther)
	rooms, _, _ := e.store.RoomsPage(context.Background(), 1, 10)
	if len(rooms) != 1 || rooms[0].Name != "Lobby" {
		t.Fatalf("rooms after create: %+v", rooms)
	}
	if loc, want := res.Header.Get("Location"), fmt.Sprintf("/chat/%d", rooms[0].ID); loc != want {
		t.Fatalf("create went to %q, want %q", loc, want)
	}
	b.follow(res).wantBody("Room created.", "<h1>Lobby</h1>")
}

// The room page is a readable history without JavaScript: the latest
// messages, oldest first, their text escaped, and the live part's wiring.
func TestChatRoomPageRendersHistory(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	ctx := context.Background()
	var ids []int64
	for i := range roomPageLen + 5 {
		m, err := e.store.AddMessage(ctx, store.NewMessage{RoomID: room.ID, UserID: u.ID, Body: fmt.Sprintf("line %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	evil, _ := e.store.AddMessage(ctx, store.NewMessage{RoomID: room.ID, UserID: u.ID, Body: "<script>alert(1)</script>\n<img src=x onerror=alert(2)>"})
	b := e.browser()
	b.login("ann@example.com")
	res := b.get(fmt.Sprintf("/chat/%d", room.ID)).wantStatus(http.StatusOK).wantBody(
		"<h1>Lobby</h1>",
		fmt.Sprintf(`data-ws="/ws/chat/%d/chat/"`, room.ID),
		fmt.Sprintf(`data-history="/api/chat/room/%d/messages/"`, room.ID),
		fmt.Sprintf(`data-me="%d"`, u.ID), `data-older="true"`,
		fmt.Sprintf(`id="m-%d"`, evil.ID), "&lt;script&gt;alert(1)&lt;/script&gt;\n&lt;img src=x onerror=alert(2)&gt;",
		`action="/chat/`, `for="chat-input"`, `/static/chat.js?v=`,
		"Scroll up for older messages.",
	).wantNoBody("<script>alert", "<img src=x", fmt.Sprintf(`id="m-%d"`, ids[5]))
	body := string(res.Body)
	// The last roomPageLen messages, in order, the newest at the bottom.
	first := strings.Index(body, fmt.Sprintf(`id="m-%d"`, ids[6]))
	last := strings.Index(body, fmt.Sprintf(`id="m-%d"`, ids[len(ids)-1]))
	if first < 0 || last < first || strings.Index(body, fmt.Sprintf(`id="m-%d"`, evil.ID)) < last {
		t.Fatalf("messages not rendered oldest first: first %d last %d", first, last)
	}
	if n := strings.Count(body, `class="msg"`); n != roomPageLen {
		t.Fatalf("%d messages on the page, want %d", n, roomPageLen)
	}

	quiet := e.createRoom(u, "Quiet")
	b.get(fmt.Sprintf("/chat/%d", quiet.ID)).wantStatus(http.StatusOK).wantBody("No messages yet.", `data-older="false"`)
}

func TestChatRoomPageUnknown(t *testing.T) {
	e := newTestEnv(t)
	e.register("ann@example.com")
	b := e.browser()
	b.login("ann@example.com")
	for _, path := range []string{"/chat/999", "/chat/0", "/chat/abc"} {
		res := b.get(path).wantStatus(http.StatusNotFound).wantBody("There is nothing at this address")
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q, want the HTML error page", path, ct)
		}
	}
	b.post("/chat/999", url.Values{"message": {"hello"}}).wantStatus(http.StatusNotFound).wantBody("There is nothing at this address")
}

// Without JavaScript the form posts the message, which is stored and
// broadcast like one sent over the API, and the browser comes back.
func TestChatSendWithoutJavaScript(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	room := e.createRoom(u, "Lobby")
	ws := e.dialChat(u, room.ID)
	b := e.browser()
	b.login("ann@example.com")
	path := fmt.Sprintf("/chat/%d", room.ID)

	res := b.post(path, url.Values{"message": {"  hello\r\nthere  "}}).wantStatus(http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != path+"#chat-form" {
		t.Fatalf("send went to %q, want back to the room", loc)
	}
	f := ws.nextOf("chat.message")
	if f["message"] != "hello\nthere" || f["sender"] != u.Email {
		t.Fatalf("broadcast frame %v, want the stored message", f)
	}
	b.get(path).wantBody("hello\nthere")

	tests := []struct{ name, value, want string }{
		{"blank", "  \n ", "This field may not be blank."},
		{"too long", strings.Repeat("a", 2001), "Keep it to 2000 characters."},
		{"control character", "bell\x07", "This field may not contain control characters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := b.post(path, url.Values{"message": {tt.value}}).wantStatus(http.StatusBadRequest).
				wantBody(tt.want, `aria-invalid="true"`, "<h1>Lobby</h1>")
			if strings.TrimSpace(tt.value) != "" && !strings.Contains(string(res.Body), strings.TrimSpace(tt.value)[:4]) {
				t.Errorf("the refused message was not kept in the form")
			}
		})
	}
	var hist []messageJSON
	e.do("GET", path2history(room.ID), u.Access, nil).wantStatus(200).decode(&hist)
	if len(hist) != 1 {
		t.Fatalf("history holds %d messages after one good post and refusals, want 1", len(hist))
	}
}

func path2history(room int64) string { return fmt.Sprintf("/api/chat/room/%d/messages/", room) }
