package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Posts, rooms and chat messages sent over REST are limited per user: past
// the burst, 429 with Retry-After and DRF's throttle message. A refused
// (invalid) write costs nothing, another user is not affected, and a
// negative rate turns the limit off.
func TestPerUserWriteLimits(t *testing.T) {
	throttled := regexp.MustCompile(`^\{"detail":"Request was throttled\. Expected available in (\d+) seconds\."\}\n$`)
	cases := []struct {
		name string
		cfg  Config // allows a burst of one, and rooms for the setup
		off  Config
		// write sends one valid write (or an invalid one) as u in room.
		write func(e *testEnv, u *testUser, room int64, valid bool) *response
		ok    int
	}{
		{"posts", Config{PostRate: 3, RoomRate: -1}, Config{PostRate: -1}, func(e *testEnv, u *testUser, _ int64, valid bool) *response {
			title := "a post"
			if !valid {
				title = ""
			}
			return e.do("POST", "/api/post/write", u.Access, map[string]any{"title": title, "content": "c"})
		}, http.StatusCreated},
		{"rooms", Config{RoomRate: 3}, Config{RoomRate: -1}, func(e *testEnv, u *testUser, _ int64, valid bool) *response {
			name := "a room"
			if !valid {
				name = " "
			}
			return e.do("POST", "/api/chat/room/", u.Access, map[string]any{"name": name})
		}, http.StatusCreated},
		{"chat messages", Config{ChatRate: 0.5, RoomRate: -1}, Config{ChatRate: -1}, func(e *testEnv, u *testUser, room int64, valid bool) *response {
			if !valid {
				room = 999999
			}
			return e.do("POST", "/api/chat/message/", u.Access, map[string]any{"type": "chat.message", "message": "hi", "room": room})
		}, http.StatusCreated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnvWith(t, c.cfg)
			u, other := e.register("u@example.com"), e.register("other@example.com")
			var room int64
			if c.name != "rooms" {
				room = e.createRoom(other, "Lobby").ID
			}
			c.write(e, u, room, false).wantStatus(http.StatusBadRequest)
			c.write(e, u, room, true).wantStatus(c.ok)
			res := c.write(e, u, room, true).wantStatus(http.StatusTooManyRequests)
			m := throttled.FindSubmatch(res.Body)
			if m == nil {
				t.Fatalf("429 body %s, want DRF's throttle message", res.Body)
			}
			if ra := res.Header.Get("Retry-After"); ra != string(m[1]) {
				t.Fatalf("Retry-After %q, body says %s seconds", ra, m[1])
			} else if n, _ := strconv.Atoi(ra); n < 1 {
				t.Fatalf("Retry-After %q, want a positive number of seconds", ra)
			}
			c.write(e, u, room, false).wantStatus(http.StatusTooManyRequests)
			c.write(e, other, room, true).wantStatus(c.ok)

			e = newTestEnvWith(t, c.off)
			u = e.register("u@example.com")
			if c.name != "rooms" {
				room = e.createRoom(u, "Lobby").ID // the first room is within any limit
			}
			for range 30 {
				c.write(e, u, room, true).wantStatus(c.ok)
			}
		})
	}
}

// The map of buckets forgets users whose bucket has filled up again, so
// it stays about as large as the set of users writing at the moment.
func TestUserLimiterForgetsIdleUsers(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := perHour(30, func() time.Time { return now })
	for id := range int64(5000) {
		if _, err := l.take(id); err != nil {
			t.Fatalf("user %d: first write throttled", id)
		}
	}
	if n := len(l.users); n < 5000 {
		t.Fatalf("%d buckets for 5000 users still refilling", n)
	}
	now = now.Add(time.Hour) // every bucket is full again
	for id := range int64(4000) {
		l.take(10_000 + id)
	}
	for id := range int64(5000) {
		if l.users[id] != nil {
			t.Fatalf("user %d's idle bucket kept after a sweep", id)
		}
	}
	if n := len(l.users); n > 4000 {
		t.Fatalf("%d buckets for 4000 users writing now", n)
	}
	// A user still refilling keeps their bucket through a sweep.
	for range 10 {
		l.take(10_000)
	}
	if _, err := l.take(10_000); err == nil {
		t.Fatal("an eleventh post within the hour was allowed")
	}
}

// The room list is paged like the post list: page and page_size with the
// same defaults, bounds and messages, Link and X-Total-Count headers, and
// a plain array for a body.
func TestRoomListPaging(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("rooms@example.com")
	for i := 1; i <= 25; i++ {
		if _, err := e.store.CreateRoom(context.Background(), u.ID, fmt.Sprint("room ", i)); err != nil {
			t.Fatal(err)
		}
	}
	names := func(path string) ([]string, *response) {
		t.Helper()
		var rooms []roomJSON
		res := e.do("GET", path, u.Access, nil).wantStatus(http.StatusOK)
		res.decode(&rooms)
		out := make([]string, len(rooms))
		for i, r := range rooms {
			out[i] = r.Name
		}
		return out, res
	}
	cases := []struct {
		path        string
		first, last string
		n           int
		next, prev  string // a part of the Link header, or "" for no such link
	}{
		{"/api/chat/room/", "room 1", "room 20", 20, `page=2&page_size=20>; rel="next"`, ""},
		{"/api/chat/room/?page=2", "room 21", "room 25", 5, "", `page=1&page_size=20>; rel="prev"`},
		{"/api/chat/room/?page=2&page_size=10", "room 11", "room 20", 10, `page=3&page_size=10>; rel="next"`, `page=1&page_size=10>; rel="prev"`},
		{"/api/chat/room/?page_size=500", "room 1", "room 25", 25, "", ""},
		{"/api/chat/room?page=9", "", "", 0, "", `page=2&page_size=20>; rel="prev"`},
	}
	for _, c := range cases {
		got, res := names(c.path)
		if len(got) != c.n || (c.n > 0 && (got[0] != c.first || got[c.n-1] != c.last)) {
			t.Errorf("%s: %v, want %d rooms from %q to %q", c.path, got, c.n, c.first, c.last)
		}
		if tc := res.Header.Get("X-Total-Count"); tc != "25" {
			t.Errorf("%s: X-Total-Count %q, want 25", c.path, tc)
		}
		link := res.Header.Get("Link")
		for rel, want := range map[string]string{"next": c.next, "prev": c.prev} {
			if want == "" && strings.Contains(link, `rel="`+rel+`"`) || want != "" && !strings.Contains(link, want) {
				t.Errorf("%s: Link %q, want %s %q", c.path, link, rel, want)
			}
		}
	}
	if got, _ := names("/api/chat/room/?page_size=500"); len(got) != 25 {
		t.Errorf("page_size over 100 is lowered, not refused: %d rooms", len(got))
	}
	for _, bad := range []struct{ query, body string }{
		{"page=0", `{"page":["Ensure this value is greater than or equal to 1."]}`},
		{"page_size=0", `{"page_size":["Ensure this value is greater than or equal to 1."]}`},
		{"page=x", `{"page":["A valid integer is required."]}`},
	} {
		e.do("GET", "/api/chat/room/?"+bad.query, u.Access, nil).wantStatus(http.StatusBadRequest).wantBody(bad.body)
		e.do("GET", "/api/post/?"+bad.query, "", nil).wantStatus(http.StatusBadRequest).wantBody(bad.body)
	}
}

// TestNumbersPast64Bits: a page number too large for any integer type is a
// page past the end, an empty array (DESIGN.md), not a 400; a size or a
// history limit that large is lowered like any large one; an id that large
// is past every message.
func TestNumbersPast64Bits(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("huge@example.com")
	e.writePost(u, map[string]any{"title": "one", "content": "x"})
	room := e.createRoom(u, "room")
	for i := range 3 {
		e.do("POST", "/api/chat/message/", u.Access, map[string]any{"message": fmt.Sprint("m", i), "room": room.ID}).wantStatus(http.StatusCreated)
	}
	const huge = "99999999999999999999999999"
	for _, path := range []string{
		"/api/post/?page=" + huge,
		"/api/post/?page=" + huge + "&page_size=" + huge,
		"/api/post/?page=9223372036854775807",
		"/api/chat/room/?page=" + huge,
		"/api/chat/room/?page=+" + huge,
		fmt.Sprintf("/api/chat/room/%d/messages/?after=%s", room.ID, huge),
	} {
		e.do("GET", path, u.Access, nil).wantStatus(http.StatusOK)
		if res := e.do("GET", path, u.Access, nil); strings.TrimSpace(string(res.Body)) != "[]" {
			t.Errorf("%s: %s, want []", path, res.Body)
		}
	}
	e.do("POST", "/api/post/", "", `{"page": `+huge+`}`).wantStatus(http.StatusOK).wantBody("[]")
	for _, path := range []string{
		"/api/post/?page_size=" + huge,
		"/api/chat/room/?page_size=" + huge,
		fmt.Sprintf("/api/chat/room/%d/messages/?limit=%s", room.ID, huge),
		fmt.Sprintf("/api/chat/room/%d/messages/?before=%s&limit=%s", room.ID, huge, huge),
	} {
		res := e.do("GET", path, u.Access, nil).wantStatus(http.StatusOK)
		var items []map[string]any
		res.decode(&items)
		if len(items) == 0 {
			t.Errorf("%s: empty, want the whole (short) list", path)
		}
	}
	for _, path := range []string{"/api/post/?page=-" + huge, "/api/chat/room/?page_size=-" + huge} {
		e.do("GET", path, u.Access, nil).wantStatus(http.StatusBadRequest).wantBody("greater than or equal to 1")
	}
	b := e.browser()
	b.login(u.Email)
	b.get("/?page="+huge).wantStatus(http.StatusOK).wantBody("There is no page", "Go to the first page")
	b.get("/chat?page=" + huge).wantStatus(http.StatusOK)
}
