package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"maru/store"
)

// socketCutter sits under the test server's listener and knows which
// connections carry a chat socket, so that a test can cut a browser's
// socket from the outside, as a dropped Wi-Fi would, and keep it from
// coming back until told.
type socketCutter struct {
	mu      sync.Mutex
	sockets []net.Conn
	blocked bool
}

func (sc *socketCutter) wrap(l net.Listener) net.Listener { return &cutListener{Listener: l, sc: sc} }

// open is the chat sockets seen so far.
func (sc *socketCutter) open() []net.Conn {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return append([]net.Conn(nil), sc.sockets...)
}

// cut closes conns and refuses new sockets until unblock.
func (sc *socketCutter) cut(conns []net.Conn) {
	sc.mu.Lock()
	sc.blocked = true
	sc.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (sc *socketCutter) unblock() {
	sc.mu.Lock()
	sc.blocked = false
	sc.mu.Unlock()
}

type cutListener struct {
	net.Listener
	sc *socketCutter
}

func (l *cutListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, sc: l.sc}, nil
}

// sniffConn spots a socket by its upgrade request, the only one a browser
// sends for /ws/.
type sniffConn struct {
	net.Conn
	sc *socketCutter
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && bytes.HasPrefix(p[:n], []byte("GET /ws/")) {
		c.sc.mu.Lock()
		blocked := c.sc.blocked
		if !blocked {
			c.sc.sockets = append(c.sc.sockets, c.Conn)
		}
		c.sc.mu.Unlock()
		if blocked {
			c.Conn.Close()
			return 0, io.EOF
		}
	}
	return n, err
}

// waitJS waits until the JavaScript expression is true in the page.
func (tb *tab) waitJS(expr string) {
	tb.t.Helper()
	tb.do(chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50e6)))
}

// chatStatus is the text of the room's connection line.
const chatStatus = `document.getElementById("chat-status").textContent`

// hasText is a JS expression: some element matching sel has exactly text.
func hasText(sel, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].some(el => el.textContent === %q)`, sel, text)
}

// The chat room in real browsers.
func TestBrowserChat(t *testing.T) {
	c := newChrome(t) // one Chromium for both: starting one is most of the cost
	t.Run("live", func(t *testing.T) { testBrowserChatLive(t, c) })
	t.Run("window stays bounded", func(t *testing.T) { testBrowserChatWindow(t, c) })
}

// Two people in one room, each in a browser of their own: they see each
// other arrive and leave and each other's messages live; the one whose
// connection drops comes back by itself and shows every message sent
// meanwhile exactly once.
func testBrowserChatLive(t *testing.T, c *chrome) {
	var cut socketCutter
	e := startEnv(t, envOptions{cfg: Config{ChatRate: -1}, wrap: cut.wrap})
	ann := e.register("ann@example.com")
	bob := e.register("bob@example.com")
	e.upload(ann.Access, nil, "me.png", pngBytes(t, testImage(40, 30, true))).wantStatus(http.StatusOK)
	room := e.createRoom(ann, "Lobby")
	roomPath := fmt.Sprintf("%s/chat/%d", e.http.URL, room.ID)

	a := c.tab(t, 360)
	a.login(e.http.URL, "ann@example.com")
	a.do(chromedp.Navigate(e.http.URL+"/chat"), chromedp.WaitVisible(css("#room-name")))
	a.noSideways()
	a.do(chromedp.Navigate(roomPath))
	a.waitJS(chatStatus + ` === "Connected"`)
	annSockets := cut.open()

	b := c.tab(t, 1280)
	b.login(e.http.URL, "bob@example.com")
	b.do(chromedp.Navigate(roomPath))
	b.waitJS(chatStatus + ` === "Connected"`)
	b.waitJS(hasText("#chat-people li", "ann") + ` && ` + hasText("#chat-people li", "bob"))
	a.waitJS(hasText("#chat-people li", "bob") + ` && ` + hasText("#chat-msgs .sys", "bob joined"))
	a.noSideways()

	// Ann writes two lines (Shift+Enter) and sends with Enter: Bob sees it
	// live, as text, with her picture; her input empties once it is sent.
	a.do(
		chromedp.SendKeys(css("#chat-input"), "hello <b>bob</b>"),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.SendKeys(css("#chat-input"), "second line"),
		chromedp.KeyEvent("\r"),
	)
	b.waitJS(hasText("#chat-msgs .msg .text", "hello <b>bob</b>\nsecond line"))
	a.waitJS(`document.getElementById("chat-input").value === ""`)
	b.waitJS(`(() => { const img = document.querySelector("#chat-msgs .msg:last-child img.avatar");
		return img && img.src.includes("/media/pictures/") && img.complete && img.naturalWidth > 0 })()`)
	if n := eval[int](b, `document.querySelectorAll("#chat-msgs b").length`); n != 0 {
		t.Fatalf("a message's markup became %d elements", n)
	}
	b.do(chromedp.SendKeys(css("#chat-input"), "hi ann"), chromedp.KeyEvent("\r"))
	a.waitJS(hasText("#chat-msgs .msg .text", "hi ann"))

	// A message the server refuses stays in the box, the reason beside it.
	long := strings.Repeat("가", 2001)
	b.do(
		// Past the box's own maxlength, as a page from before a lower
		// -chat-max-len would let through.
		chromedp.Evaluate[chromedp.Void](`(i => { i.removeAttribute("maxlength"); i.value = "가".repeat(2001); i.focus() })(document.getElementById("chat-input"))`),
		chromedp.KeyEvent("\r"),
	)
	b.waitJS(`document.getElementById("chat-error").textContent === "Keep it to 2000 characters."`)
	// (chromedp types Enter as a key and then a separate character event,
	// which puts a newline in that a real keypress, whose keydown the page
	// cancels, would not.)
	if v := eval[string](b, `document.getElementById("chat-input").value`); strings.TrimSuffix(v, "\n") != long {
		t.Fatalf("the refused message was not kept: %d characters left in the box, ending %q", len([]rune(v)), v[len(v)-8:])
	}
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("chat-input").value = ""`))

	// Ann's connection drops: Bob sees her leave, she sees that she is
	// reconnecting, and more than a page of messages is sent meanwhile.
	cut.cut(annSockets)
	a.waitJS(chatStatus + `.startsWith("Connection lost")`)
	b.waitJS(hasText("#chat-msgs .sys", "ann left") + ` && !` + hasText("#chat-people li", "ann"))
	var missed []int64
	for i := range 60 {
		var m messageJSON
		e.do("POST", "/api/chat/message/", bob.Access, map[string]any{"message": fmt.Sprint("while away ", i), "room": room.ID}).
			wantStatus(http.StatusCreated).decode(&m)
		missed = append(missed, m.ID)
	}
	cut.unblock()
	// The backoff may have grown long meanwhile; the browser saying it is
	// online again makes the page try at once, as on a phone back in range.
	a.do(chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event("online"))`))
	b.waitJS(hasText("#chat-msgs .sys", "ann joined"))
	ids := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(missed)), ","), "[]")
	a.waitJS(chatStatus + ` === "Connected" && [` + ids + `].every(id => document.querySelectorAll('[data-id="' + id + '"]').length === 1)`)

	// Every message once, in order: the two before the drop and the 60.
	type view struct{ IDs []int64 }
	got := eval[view](a, `({IDs: [...document.querySelectorAll("#chat-msgs .msg")].map(el => +el.dataset.id)})`)
	var want []int64
	hist, err := e.store.Messages(context.Background(), room.ID, 0, store.MaxHistoryLen)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range hist {
		want = append(want, m.ID)
	}
	if fmt.Sprint(got.IDs) != fmt.Sprint(want) {
		t.Fatalf("after the reconnect the page shows messages %v, want %v", got.IDs, want)
	}
	// And it is live again.
	e.do("POST", "/api/chat/message/", bob.Access, map[string]any{"message": "welcome back", "room": room.ID}).wantStatus(http.StatusCreated)
	a.waitJS(hasText("#chat-msgs .msg .text", "welcome back"))
	a.noSideways()
}

// A reader scrolling back through a long history keeps a bounded number of
// messages in the page: older pages load at the top and the newest beyond
// the cap go, to come back (with after=) when the reader scrolls down again.
func testBrowserChatWindow(t *testing.T, c *chrome) {
	e := newTestEnv(t)
	ann := e.register("ann@example.com")
	room := e.createRoom(ann, "Archive")
	ctx := context.Background()
	const total = 800
	var ids []int64
	for i := range total {
		m, err := e.store.AddMessage(ctx, store.NewMessage{RoomID: room.ID, UserID: ann.ID, Body: fmt.Sprint("old message ", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	a := c.tab(t, 1280)
	a.login(e.http.URL, "ann@example.com")
	a.do(chromedp.Navigate(fmt.Sprintf("%s/chat/%d", e.http.URL, room.ID)))
	a.waitJS(chatStatus + ` === "Connected"`)

	type window struct {
		Count, First, Last int64
		Jump               bool
	}
	const state = `(() => { const m = document.querySelectorAll("#chat-msgs .msg");
		return {Count: m.length, First: +m[0].dataset.id, Last: +m[m.length-1].dataset.id,
			Jump: !document.getElementById("chat-jump").hidden} })()`
	most := int64(0)
	look := func() window {
		w := eval[window](a, state)
		most = max(most, w.Count)
		return w
	}
	// Up to the very first message, a page at a time.
	for w := look(); w.First != ids[0]; w = look() {
		a.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("chat-log").scrollTop = 0`))
		a.waitJS(fmt.Sprintf(`+document.querySelector("#chat-msgs .msg").dataset.id < %d`, w.First))
	}
	w := look()
	if w.Last == ids[total-1] || !w.Jump {
		t.Fatalf("at the start of a %d-message room the page still holds the newest: %+v", total, w)
	}
	// One more look up finds nothing older, and says so.
	a.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("chat-log").scrollTop = 0`))
	a.waitJS(`document.getElementById("chat-top").textContent === "This is the start of the room."`)
	// Back down to the newest, a page at a time, and live again.
	for w := look(); w.Last != ids[total-1]; w = look() {
		a.do(chromedp.Evaluate[chromedp.Void](`(l => l.scrollTop = l.scrollHeight)(document.getElementById("chat-log"))`))
		a.waitJS(fmt.Sprintf(`(m => +m[m.length-1].dataset.id > %d)(document.querySelectorAll("#chat-msgs .msg"))`, w.Last))
	}
	if most > 500 {
		t.Fatalf("the page held up to %d messages, want at most 500", most)
	}
	e.do("POST", "/api/chat/message/", ann.Access, map[string]any{"message": "new one", "room": room.ID}).wantStatus(http.StatusCreated)
	a.waitJS(hasText("#chat-msgs .msg .text", "new one"))
	// Every message shown once and in order.
	if bad := eval[bool](a, `(ids => ids.some((id, i) => i > 0 && id <= ids[i-1]))([...document.querySelectorAll("#chat-msgs .msg")].map(el => +el.dataset.id))`); bad {
		t.Fatal("the messages are out of order or shown twice")
	}
}
