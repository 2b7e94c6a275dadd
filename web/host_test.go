package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// hostile is the Host a client sends to plant its own name in URLs.
const hostile = "evil.example"

// getWithHost sends a GET whose Host header is host, as any client may.
func (e *testEnv) getWithHost(path, token, host string) *response {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.http.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = host
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

// wantNoHost fails if what a client received names host anywhere.
func wantNoHost(t *testing.T, what string, got string) {
	t.Helper()
	if strings.Contains(got, hostile) {
		t.Fatalf("%s carries the other client's Host: %s", what, got)
	}
}

// A chat message sent on a socket opened with a forged Host reaches the
// other members of the room without a trace of that Host: the frame is
// built once and broadcast, so nothing of the sender's request may be in it.
func TestChatFramesIgnoreSendersHost(t *testing.T) {
	e := newTestEnv(t)
	ann := e.register("ann@example.com")
	bob := e.register("bob@example.com")
	e.upload(ann.Access, nil, "me.jpg", jpegWithGPS(t)).wantStatus(http.StatusOK)
	room := e.createRoom(ann, "Lobby")

	listener := e.dialChat(bob, room.ID)
	listener.nextOf("chat.presence")

	ctx, cancel := context.WithTimeout(context.Background(), frameWait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, e.wsURL(fmt.Sprintf("/ws/chat/%d/chat/", room.ID)), &websocket.DialOptions{
		Host:       hostile,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + ann.Access}},
	})
	if err != nil {
		t.Fatalf("dial with Host %s: %v", hostile, err)
	}
	defer c.CloseNow()
	sender := &testSocket{t: t, c: c}
	sender.say("over the socket")
	frame := listener.nextOf("chat.message")
	if frame["profile_picture_url"] == nil {
		t.Fatalf("frame %v has no picture URL: the test proves nothing", frame)
	}
	wantNoHost(t, "socket frame", fmt.Sprint(frame))

	// The same through the REST route, which broadcasts too.
	req, _ := http.NewRequest("POST", e.http.URL+"/api/chat/message/",
		strings.NewReader(fmt.Sprintf(`{"type":"chat.message","message":"over REST","room":%d}`, room.ID)))
	req.Host = hostile
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ann.Access)
	e.send(req).wantStatus(http.StatusCreated)
	wantNoHost(t, "REST broadcast", fmt.Sprint(listener.nextOf("chat.message")))

	// And the history another member reads.
	hist := e.do("GET", fmt.Sprintf("/api/chat/room/%d/messages/", room.ID), bob.Access, nil).wantStatus(http.StatusOK)
	wantNoHost(t, "history", string(hist.Body))
}

// Answers that other clients may be served from memory (the post list and
// a post's detail), and the links of a list page, name no Host of any
// request; with a base URL they are built on it.
func TestCachedAnswersIgnoreRequestHost(t *testing.T) {
	for _, base := range []string{"", "https://club.example.org"} {
		t.Run("base="+base, func(t *testing.T) {
			e := newTestEnvWith(t, Config{BaseURL: base})
			ann := e.register("ann@example.com")
			e.upload(ann.Access, nil, "me.jpg", jpegWithGPS(t)).wantStatus(http.StatusOK)
			var id int64
			for i := range 3 {
				id = e.writePost(ann, map[string]any{"title": fmt.Sprint("post ", i), "content": "text"}).ID
			}
			paths := []string{"/api/post/?page_size=1&page=2", fmt.Sprintf("/api/post/detail/%d/", id)}
			for _, p := range paths {
				e.getWithHost(p, "", hostile).wantStatus(http.StatusOK) // fills the caches
			}
			for _, p := range paths {
				res := e.getWithHost(p, "", "club.lan").wantStatus(http.StatusOK)
				wantNoHost(t, p, fmt.Sprint(res.Header, string(res.Body)))
			}
			link := e.getWithHost(paths[0], "", hostile).Header.Get("Link")
			if wantPrefix := "<" + base + "/api/post/?"; !strings.HasPrefix(link, wantPrefix) || strings.Contains(link, hostile) {
				t.Fatalf("Link %q: want URLs starting %q", link, wantPrefix)
			}
			var me struct {
				ProfilePicture string `json:"profile_picture"`
			}
			e.getWithHost("/mysite/user/v1/profile/", ann.Access, hostile).wantStatus(http.StatusOK).decode(&me)
			if !strings.HasPrefix(me.ProfilePicture, base+"/media/pictures/") {
				t.Fatalf("profile_picture %q: want it under %q", me.ProfilePicture, base+"/media/pictures/")
			}
		})
	}
}
