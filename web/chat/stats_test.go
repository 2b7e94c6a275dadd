package chat

import "testing"

func TestStatsCountSocketsDeliveriesAndSlowDrops(t *testing.T) {
	h := NewHub(4)
	drain := func(s *Subscriber) {
		for len(s.Frames()) > 0 {
			<-s.Frames()
		}
	}
	slow := join(t, h, 1, 1, "slow") // presence, own join: 2 queued
	fast := join(t, h, 1, 2, "fast") // presence to fast, join to both: 5
	drain(fast)
	h.Publish(1, []byte("a")) // slow's queue is now full: 7
	drain(fast)
	h.Publish(1, []byte("b")) // slow is dropped, fast gets it: 8, 1 dropped
	h.Publish(1, []byte("c")) // slow is gone: 9, 2 dropped
	want := Stats{Sockets: 2, Delivered: 9, Dropped: 2, SlowSockets: 1}
	if got := h.Stats(); got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
	h.Leave(slow) // fast hears the leave: 10
	h.Leave(fast)
	want = Stats{Sockets: 0, Delivered: 10, Dropped: 2, SlowSockets: 1}
	if got := h.Stats(); got != want {
		t.Fatalf("after leaving: stats %+v, want %+v", got, want)
	}
}
