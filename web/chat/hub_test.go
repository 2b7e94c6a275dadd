package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// next takes the next queued frame of s, failing if there is none.
func next(t *testing.T, s *Subscriber) string {
	t.Helper()
	select {
	case f := <-s.Frames():
		return string(f)
	default:
		t.Fatalf("%s: no frame queued", s.member.Username)
		return ""
	}
}

func wantEmpty(t *testing.T, s *Subscriber) {
	t.Helper()
	select {
	case f := <-s.Frames():
		t.Fatalf("%s: unexpected frame %s", s.member.Username, f)
	default:
	}
}

func join(t *testing.T, h *Hub, room int64, id int64, name string) *Subscriber {
	t.Helper()
	s, err := h.Join(room, Member{ID: id, Username: name})
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	return s
}

func TestPresenceAcrossTabs(t *testing.T) {
	h := NewHub(16)
	ann := join(t, h, 1, 10, "ann")
	if got, want := next(t, ann), `{"type":"chat.presence","users":[{"id":10,"username":"ann"}]}`; got != want {
		t.Fatalf("presence: %s, want %s", got, want)
	}
	if got, want := next(t, ann), `{"type":"chat.user.join","username":"ann"}`; got != want {
		t.Fatalf("own join: %s, want %s", got, want)
	}

	bob1 := join(t, h, 1, 20, "bob")
	if got, want := next(t, bob1), `{"type":"chat.presence","users":[{"id":10,"username":"ann"},{"id":20,"username":"bob"}]}`; got != want {
		t.Fatalf("presence: %s, want %s", got, want)
	}
	joinBob := `{"type":"chat.user.join","username":"bob"}`
	if got := next(t, ann); got != joinBob {
		t.Fatalf("ann got %s, want %s", got, joinBob)
	}
	next(t, bob1)

	// A second tab: presence for it alone, no join for anyone.
	bob2 := join(t, h, 1, 20, "bob")
	if got := next(t, bob2); got != `{"type":"chat.presence","users":[{"id":10,"username":"ann"},{"id":20,"username":"bob"}]}` {
		t.Fatalf("second tab presence: %s", got)
	}
	wantEmpty(t, bob2)
	wantEmpty(t, ann)
	wantEmpty(t, bob1)

	// Closing one tab is not leaving; closing the last one is.
	h.Leave(bob1)
	wantEmpty(t, ann)
	h.Leave(bob2)
	if got, want := next(t, ann), `{"type":"chat.user.leave","username":"bob"}`; got != want {
		t.Fatalf("leave: %s, want %s", got, want)
	}
	if m := h.Members(1); len(m) != 1 || m[0].ID != 10 {
		t.Fatalf("members after bob left: %v", m)
	}
	// Rooms are separate.
	other := join(t, h, 2, 30, "cat")
	next(t, other)
	next(t, other)
	wantEmpty(t, ann)
	h.Leave(ann)
	h.Leave(other)
	if len(h.rooms) != 0 {
		t.Fatalf("empty rooms kept: %d", len(h.rooms))
	}
}

func TestPublishReachesEverySubscriberInOrder(t *testing.T) {
	h := NewHub(64)
	subs := make([]*Subscriber, 5)
	for i := range subs {
		subs[i] = join(t, h, 7, int64(i+1), fmt.Sprint("u", i))
	}
	for _, s := range subs {
		for len(s.Frames()) > 0 {
			<-s.Frames()
		}
	}
	for i := range 10 {
		h.Publish(7, []byte(fmt.Sprint(i)))
	}
	h.Publish(8, []byte("elsewhere")) // a room nobody is in
	for _, s := range subs {
		for i := range 10 {
			if got := next(t, s); got != fmt.Sprint(i) {
				t.Fatalf("frame %d: %s", i, got)
			}
		}
		wantEmpty(t, s)
	}
}

// TestSlowSubscriberIsDropped: a subscriber that stops reading is dropped
// as soon as its queue is full, and publishing to the room never waits.
func TestSlowSubscriberIsDropped(t *testing.T) {
	h := NewHub(4)
	slow := join(t, h, 1, 1, "slow")
	fast := join(t, h, 1, 2, "fast")
	var got []string
	for i := range 20 {
		h.Publish(1, []byte(fmt.Sprint(i)))
		for len(fast.Frames()) > 0 {
			got = append(got, string(<-fast.Frames()))
		}
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber was not dropped")
	}
	if slow.Reason() != TooSlow {
		t.Fatalf("reason %v, want TooSlow", slow.Reason())
	}
	if len(got) < 20 || got[len(got)-1] != "19" {
		t.Fatalf("fast subscriber got %v, want every frame up to 19", got)
	}
	select {
	case <-fast.Done():
		t.Fatal("fast subscriber dropped")
	default:
	}
	if slow.Send([]byte("x")) {
		t.Fatal("Send to a dropped subscriber succeeded")
	}
	h.Leave(slow)
	// The dropped subscriber's channel is still open: only Done was closed.
	if _, ok := <-slow.Frames(); !ok {
		t.Fatal("frames channel was closed")
	}
}

func TestSendToFullQueueDrops(t *testing.T) {
	h := NewHub(2)
	s := join(t, h, 1, 1, "a") // presence + join fill the queue
	if s.Send([]byte("x")) {
		t.Fatal("Send into a full queue succeeded")
	}
	<-s.Done()
}

func TestCloseDropsAndWaits(t *testing.T) {
	h := NewHub(8)
	subs := []*Subscriber{join(t, h, 1, 1, "a"), join(t, h, 2, 2, "b")}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with subscribers that never leave: %v, want deadline exceeded", err)
	}
	for _, s := range subs {
		<-s.Done()
		if s.Reason() != GoingAway {
			t.Fatalf("reason %v, want GoingAway", s.Reason())
		}
		h.Leave(s)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatalf("Close after all left: %v", err)
	}
	if _, err := h.Join(1, Member{ID: 3}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Join after Close: %v, want ErrClosed", err)
	}
}

// TestConcurrentUse exercises join, publish, send and leave at once, for
// the race detector; every subscriber must see the others' frames in one
// order.
func TestConcurrentUse(t *testing.T) {
	h := NewHub(1024)
	var wg sync.WaitGroup
	for u := range 8 {
		wg.Go(func() {
			for range 20 {
				s, err := h.Join(1, Member{ID: int64(u % 3), Username: "x"})
				if err != nil {
					t.Error(err)
					return
				}
				h.Publish(1, []byte(`{}`))
				s.Send([]byte(`{}`))
				for len(s.Frames()) > 0 {
					var v map[string]any
					if err := json.Unmarshal(<-s.Frames(), &v); err != nil {
						t.Error(err)
					}
				}
				h.Leave(s)
			}
		})
	}
	wg.Wait()
	if m := h.Members(1); len(m) != 0 {
		t.Fatalf("members left behind: %v", m)
	}
}
