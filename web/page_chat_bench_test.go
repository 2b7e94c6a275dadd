package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"maru/store"
)

// BenchmarkRoomPage renders a room with 1,000 earlier messages (the page
// shows the last 50) through the whole handler chain, session cookie
// included, beside the API's history of the same 50 messages as a baseline.
func BenchmarkRoomPage(b *testing.B) {
	e := startEnv(b, envOptions{quiet: true})
	ann := e.register("ann@example.com")
	bob := e.register("bob@example.com")
	e.upload(ann.Access, nil, "me.png", pngBytes(b, testImage(40, 30, true))).wantStatus(http.StatusOK)
	room := e.createRoom(ann, "Busy room")
	ctx := context.Background()
	for i := range 1000 {
		from := ann.ID
		if i%3 == 0 {
			from = bob.ID
		}
		body := fmt.Sprintf("message %d: 안녕하세요, <b>how</b> are you doing today?", i)
		if _, err := e.store.AddMessage(ctx, store.NewMessage{RoomID: room.ID, UserID: from, Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	br := e.browser()
	br.login("ann@example.com")
	u, _ := url.Parse(e.http.URL)
	cookies := br.c.Jar.Cookies(u)

	run := func(b *testing.B, path, auth string) {
		req := httptest.NewRequest("GET", path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			e.server.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
			}
		}
	}
	b.Run("page", func(b *testing.B) { run(b, fmt.Sprintf("/chat/%d", room.ID), "") })
	b.Run("api-history", func(b *testing.B) {
		run(b, fmt.Sprintf("/api/chat/room/%d/messages/?limit=%d", room.ID, roomPageLen), ann.Access)
	})
}
