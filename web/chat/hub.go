// Package chat is the in-process hub of maru's chat rooms: who is
// subscribed to which room, who is present, and the fan-out of frames to
// them. It knows nothing of HTTP or WebSocket; a frame is an encoded
// message the caller writes to its socket.
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// Publisher is the publish step of the chat: it hands an encoded frame to
// every subscriber of a room, never waiting for any of them. Handlers
// publish through this interface only, so that a cross-node broker
// (PostgreSQL LISTEN/NOTIFY, NATS) can replace the in-process Hub: it would
// send the frame to every node, each delivering it with its own Hub.
type Publisher interface {
	Publish(room int64, frame []byte)
}

var _ Publisher = (*Hub)(nil)

// ErrClosed is returned by Join once the hub is shutting down.
var ErrClosed = errors.New("chat hub closed")

// Reason says why a subscriber was dropped by the hub.
type Reason int

const (
	// TooSlow means its queue was full: it did not keep up with the room.
	TooSlow Reason = iota + 1
	// GoingAway means the hub is shutting down.
	GoingAway
	// Revoked means the credentials the socket was opened with no longer
	// hold: the session ended, or the account was closed.
	Revoked
	// RoomGone means the room was deleted.
	RoomGone
)

// Member is a user present in a room, as the presence frames show them.
type Member struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// Subscriber is one socket in one room. Its owner reads Frames and writes
// them out, and leaves with Hub.Leave when the socket ends.
//
// The publisher never closes the frames channel: a publish that raced a
// close would panic, and a reader could not tell a close from a drop.
// Instead the hub closes done, once, when it drops the subscriber.
type Subscriber struct {
	room   int64
	member Member
	frames chan []byte
	done   chan struct{}
	once   sync.Once
	reason Reason // set before done is closed
	// dropped mirrors done for the publish loop, which checks it for every
	// subscriber of every frame and should not pay for a select there.
	dropped atomic.Bool
	idx     int // position in room.subs, guarded by the room's lock
	stats   *counters
}

// Frames is the subscriber's queue of frames to write, in publish order.
func (s *Subscriber) Frames() <-chan []byte { return s.frames }

// Done is closed when the hub drops the subscriber; Reason then says why.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// Reason is why the subscriber was dropped; valid once Done is closed.
func (s *Subscriber) Reason() Reason { return s.reason }

// Send queues a frame for this subscriber alone (a reply such as an error
// frame). Like Publish it never blocks: a full queue drops the subscriber.
func (s *Subscriber) Send(frame []byte) bool {
	if s.dropped.Load() {
		return false
	}
	select {
	case s.frames <- frame:
		s.stats.delivered.Add(1)
		return true
	default:
		s.drop(TooSlow)
		s.stats.dropped.Add(1)
		return false
	}
}

// Revoke drops the subscriber with Revoked, from any goroutine: its owner
// sees Done closed and ends the socket. Revoking twice, or after another
// drop, changes nothing.
func (s *Subscriber) Revoke() { s.drop(Revoked) }

func (s *Subscriber) drop(r Reason) {
	s.once.Do(func() {
		s.reason = r
		s.dropped.Store(true)
		close(s.done)
		if r == TooSlow {
			s.stats.slow.Add(1)
		}
	})
}

// counters are the hub's running totals, for monitoring.
type counters struct {
	sockets   atomic.Int64  // subscribers that have joined and not left
	delivered atomic.Uint64 // frames queued for a subscriber
	dropped   atomic.Uint64 // frames not queued because a subscriber was too slow
	slow      atomic.Uint64 // subscribers dropped as too slow
}

// Stats are the hub's running totals since it was made.
type Stats struct {
	// Sockets is how many subscribers are in rooms now.
	Sockets int64
	// Delivered counts frames queued for a subscriber; Dropped frames that
	// were not, because the subscriber was too slow.
	Delivered, Dropped uint64
	// SlowSockets counts subscribers dropped for falling behind.
	SlowSockets uint64
}

// Stats reports the hub's running totals.
func (h *Hub) Stats() Stats {
	return Stats{
		Sockets:     h.stats.sockets.Load(),
		Delivered:   h.stats.delivered.Load(),
		Dropped:     h.stats.dropped.Load(),
		SlowSockets: h.stats.slow.Load(),
	}
}

// Hub is the in-process set of rooms and their subscribers.
type Hub struct {
	queueLen int

	mu     sync.RWMutex // guards rooms and closed
	rooms  map[int64]*room
	closed bool
	live   sync.WaitGroup // one per subscriber that has not left
	stats  counters
}

type room struct {
	mu    sync.Mutex
	subs  []*Subscriber
	users map[int64]*presence
	seq   int64 // orders presence by arrival
	refs  int   // subscribers, counted under Hub.mu for removal
	stats *counters
}

type presence struct {
	member Member
	tabs   int
	seq    int64
}

// NewHub returns an empty hub whose subscribers each queue at most
// queueLen frames before they count as too slow.
func NewHub(queueLen int) *Hub {
	return &Hub{queueLen: max(queueLen, 2), rooms: make(map[int64]*room)}
}

// Join subscribes a socket of member to roomID. The new subscriber's queue
// starts with a chat.presence frame listing who is in the room, member
// included; if it is the member's first socket there, a chat.user.join
// frame then goes to the whole room, the new socket too.
func (h *Hub) Join(roomID int64, m Member) (*Subscriber, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	r := h.rooms[roomID]
	if r == nil {
		r = &room{users: make(map[int64]*presence), stats: &h.stats}
		h.rooms[roomID] = r
	}
	r.refs++
	h.live.Add(1)
	h.mu.Unlock()

	h.stats.sockets.Add(1)
	s := &Subscriber{room: roomID, member: m, frames: make(chan []byte, h.queueLen), done: make(chan struct{}), stats: &h.stats}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.idx = len(r.subs)
	r.subs = append(r.subs, s)
	p := r.users[m.ID]
	first := p == nil
	if first {
		r.seq++
		p = &presence{member: m, seq: r.seq}
		r.users[m.ID] = p
	}
	p.tabs++
	s.frames <- presenceFrame(r.users) // the queue is new and empty
	h.stats.delivered.Add(1)
	if first {
		r.publish(eventFrame("chat.user.join", m.Username))
	}
	return s, nil
}

// Leave unsubscribes s. If it was its member's last socket in the room,
// the others get a chat.user.leave frame. The socket's own goroutine calls
// it, whether the socket ended by itself or the hub dropped it.
func (h *Hub) Leave(s *Subscriber) {
	h.mu.RLock()
	r := h.rooms[s.room]
	h.mu.RUnlock()

	r.mu.Lock()
	last := r.subs[len(r.subs)-1]
	last.idx = s.idx
	r.subs[s.idx] = last
	r.subs[len(r.subs)-1] = nil
	r.subs = r.subs[:len(r.subs)-1]
	if p := r.users[s.member.ID]; p != nil {
		if p.tabs--; p.tabs == 0 {
			delete(r.users, s.member.ID)
			r.publish(eventFrame("chat.user.leave", p.member.Username))
		}
	}
	r.mu.Unlock()

	h.mu.Lock()
	if r.refs--; r.refs == 0 {
		delete(h.rooms, s.room)
	}
	h.mu.Unlock()
	h.stats.sockets.Add(-1)
	h.live.Done()
}

// Publish queues frame for every subscriber of roomID. It never waits: a
// subscriber whose queue is full is dropped (TooSlow) instead, so one
// stalled client cannot hold up the room.
func (h *Hub) Publish(roomID int64, frame []byte) {
	h.mu.RLock()
	r := h.rooms[roomID]
	h.mu.RUnlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	r.publish(frame)
	r.mu.Unlock()
}

// publish fans frame out under r.mu, which is what gives every subscriber
// of a room the same order of frames. It counts locally and adds to the
// hub's totals once, so rooms do not contend on the counters per socket.
func (r *room) publish(frame []byte) {
	var delivered, dropped uint64
	for _, s := range r.subs {
		if s.dropped.Load() {
			dropped++
			continue
		}
		select {
		case s.frames <- frame:
			delivered++
		default:
			s.drop(TooSlow)
			dropped++
		}
	}
	r.stats.delivered.Add(delivered)
	if dropped > 0 {
		r.stats.dropped.Add(dropped)
	}
}

// CloseRoom drops every subscriber of roomID with RoomGone: the room was
// deleted. Frames queued before, such as the notice of the deletion, are
// still theirs to write before they close.
func (h *Hub) CloseRoom(roomID int64) {
	h.mu.RLock()
	r := h.rooms[roomID]
	h.mu.RUnlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	for _, s := range r.subs {
		s.drop(RoomGone)
	}
	r.mu.Unlock()
}

// Members lists who is in roomID now, in order of arrival.
func (h *Hub) Members(roomID int64) []Member {
	h.mu.RLock()
	r := h.rooms[roomID]
	h.mu.RUnlock()
	if r == nil {
		return []Member{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return members(r.users)
}

// Close drops every subscriber with GoingAway, refuses new ones, and waits
// until all have left or ctx ends.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	for _, r := range h.rooms {
		r.mu.Lock()
		for _, s := range r.subs {
			s.drop(GoingAway)
		}
		r.mu.Unlock()
	}
	h.mu.Unlock()

	left := make(chan struct{})
	go func() {
		h.live.Wait()
		close(left)
	}()
	select {
	case <-left:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func members(users map[int64]*presence) []Member {
	ps := make([]*presence, 0, len(users))
	for _, p := range users {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *presence) int { return int(a.seq - b.seq) })
	out := make([]Member, len(ps))
	for i, p := range ps {
		out[i] = p.member
	}
	return out
}

func presenceFrame(users map[int64]*presence) []byte {
	b, _ := json.Marshal(struct {
		Type  string   `json:"type"`
		Users []Member `json:"users"`
	}{"chat.presence", members(users)})
	return b
}

func eventFrame(typ, username string) []byte {
	b, _ := json.Marshal(struct {
		Type     string `json:"type"`
		Username string `json:"username"`
	}{typ, username})
	return b
}
