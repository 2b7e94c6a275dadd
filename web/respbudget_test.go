package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"maru/store"
)

// Clients that ask for the largest page there is (100 posts of 50,000 '<',
// 30 MB of JSON) and never read it are cut off at the write deadline,
// instead of keeping the page and a goroutine for as long as they like.
func TestSlowListReadersAreCutOff(t *testing.T) {
	const timeout = 2 * time.Second
	e := newTestEnvWith(t, Config{WriteTimeout: timeout})
	u := e.register("big@example.com")
	// Written through the store: each would take a while over HTTP, and
	// under the short write deadline a busy machine could cut one off.
	content := strings.Repeat("<", store.MaxContentLen)
	for i := range store.MaxPageSize {
		np := store.NewPost{AuthorID: u.ID, Title: fmt.Sprint("post ", i), Content: content}
		if _, err := e.store.CreatePost(context.Background(), np); err != nil {
			t.Fatal(err)
		}
	}
	addr := strings.TrimPrefix(e.http.URL, "http://")
	conns := make([]*net.TCPConn, 4)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c.(*net.TCPConn)
		defer c.Close()
		fmt.Fprintf(c, "GET /api/post/?page_size=%d HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", store.MaxPageSize, addr)
	}
	time.Sleep(2 * timeout) // read nothing until the deadline has passed

	cut := 0
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		br := bufio.NewReader(c)
		status, _ := br.ReadString('\n')
		rest, err := io.ReadAll(br)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection %d (%q) still open %s after its write deadline", i, strings.TrimSpace(status), 20*time.Second)
		}
		switch {
		case strings.HasPrefix(status, "HTTP/1.1 200"):
			// Cut off mid-page: the chunked body never got its last chunk.
			if strings.HasSuffix(string(rest), "]\n\r\n0\r\n\r\n") {
				t.Fatalf("connection %d got the whole page (%d bytes) without reading it", i, len(rest))
			}
			cut++
		case strings.HasPrefix(status, "HTTP/1.1 503"):
			// Waited for its share of response memory past the deadline.
		default:
			t.Fatalf("connection %d: status line %q", i, status)
		}
	}
	if cut == 0 {
		t.Fatal("no connection was answered at all: the test proves nothing")
	}
	// The server still answers others.
	e.do("GET", "/api/post/?page_size=1", "", nil).wantStatus(http.StatusOK)
}

// A chat socket is not an ordinary response: it lives well past the
// write deadline of one.
func TestChatSocketOutlivesWriteDeadline(t *testing.T) {
	const timeout = 200 * time.Millisecond
	e := newTestEnvWith(t, Config{WriteTimeout: timeout})
	ann := e.register("ann@example.com")
	room := e.createRoom(ann, "Lobby")
	s := e.dialChat(ann, room.ID)
	s.nextOf("chat.presence")
	time.Sleep(3 * timeout)
	s.say("still here")
	if m := s.nextOf("chat.message"); m["message"] != "still here" {
		t.Fatalf("got %v", m)
	}
}

func TestByteBudget(t *testing.T) {
	ctx := context.Background()
	b := newByteBudget(100)
	first, err := b.reserve(ctx, 80, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Over the budget: waits, and gives up after its wait with 503.
	if _, err := b.reserve(ctx, 30, 10*time.Millisecond); !errors.Is(err, errBusy) {
		t.Fatalf("reserve beyond the budget: %v, want errBusy", err)
	}
	// Waiters are served in order once the first gives back what it
	// does not need; a later small one does not overtake an earlier one.
	granted := make(chan string, 2)
	go func() {
		r, err := b.reserve(ctx, 60, 10*time.Second)
		if err == nil {
			granted <- "60"
			r.release()
		}
	}()
	for b.waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	go func() {
		if _, err := b.reserve(ctx, 10, 10*time.Second); err == nil {
			granted <- "10"
		}
	}()
	for b.waiting() != 2 {
		time.Sleep(time.Millisecond)
	}
	first.shrink(40)
	if got := <-granted; got != "60" {
		t.Fatalf("granted %s first, want the earlier waiter (60)", got)
	}
	if got := <-granted; got != "10" {
		t.Fatalf("granted %s, want 10", got)
	}
	first.release()
	first.release()
	if free := b.freeBytes(); free != 90 {
		t.Fatalf("free %d after releases, want 90 (10 still held)", free)
	}
	// A request larger than the whole budget waits for all of it.
	huge, err := b.reserve(ctx, 1000, 10*time.Millisecond)
	if !errors.Is(err, errBusy) {
		t.Fatalf("huge reserve with 10 held: %v, want errBusy", err)
	}
	b.put(10)
	if huge, err = b.reserve(ctx, 1000, time.Second); err != nil || huge.n != 100 {
		t.Fatalf("huge reserve on an idle budget: %v, holds %v", err, huge)
	}
	// A budget that was cancelled while waiting leaves nothing behind.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.reserve(cctx, 1, time.Second); !errors.Is(err, context.Canceled) || b.waiting() != 0 {
		t.Fatalf("cancelled reserve: %v, %d waiting", err, b.waiting())
	}
}

func (b *byteBudget) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiters)
}

func (b *byteBudget) freeBytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.free
}
