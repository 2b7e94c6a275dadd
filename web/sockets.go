package web

import (
	"context"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"maru/web/chat"
)

// statusCredentialsGone is the close code of a socket whose session ended
// or whose account was closed: 4000 plus HTTP's 401, as other WebSocket
// protocols use it, so that a client logs in again instead of reconnecting.
const statusCredentialsGone websocket.StatusCode = 4401

// statusRoomGone is the close code of the sockets of a room that an admin
// deleted: 4000 plus HTTP's 404, so that a client stops reconnecting.
const statusRoomGone websocket.StatusCode = 4404

// socketSlot is one chat socket as the registry knows it: whose it is, the
// browser session it was opened with ("" for a token), and its hub
// subscriber once it has joined its room.
type socketSlot struct {
	userID  int64
	session string
	sub     *chat.Subscriber // nil until attached
	revoked bool             // ended before it was attached
}

// socketRegistry knows every open chat socket by user and by browser
// session, so that the server can count a user's sockets and end those
// whose credentials stop holding. A user may have at most max sockets
// open (0: no limit).
type socketRegistry struct {
	max int

	mu        sync.Mutex
	byUser    map[int64]map[*socketSlot]struct{}
	bySession map[string]map[*socketSlot]struct{}
}

func newSocketRegistry(max int) *socketRegistry {
	return &socketRegistry{
		max:       max,
		byUser:    make(map[int64]map[*socketSlot]struct{}),
		bySession: make(map[string]map[*socketSlot]struct{}),
	}
}

var errTooManySockets = &apiError{
	status: http.StatusTooManyRequests,
	body:   detail("Too many chat sockets open: close one and try again."),
	header: http.Header{"Retry-After": {"10"}},
}

// reserve takes a slot for a new socket of userID, opened with the browser
// session token session (or "" for a token), before the upgrade, or gives
// the 429 to answer with when the user has max sockets open.
func (reg *socketRegistry) reserve(userID int64, session string) (*socketSlot, error) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.max > 0 && len(reg.byUser[userID]) >= reg.max {
		return nil, errTooManySockets
	}
	slot := &socketSlot{userID: userID, session: session}
	addTo(reg.byUser, userID, slot)
	if session != "" {
		addTo(reg.bySession, session, slot)
	}
	return slot, nil
}

// attach ties a slot to its hub subscriber. A slot revoked in between
// (a logout racing the upgrade) revokes the subscriber at once.
func (reg *socketRegistry) attach(slot *socketSlot, sub *chat.Subscriber) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	slot.sub = sub
	if slot.revoked {
		sub.Revoke()
	}
}

// release forgets a slot when its socket has ended (or never opened).
func (reg *socketRegistry) release(slot *socketSlot) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	removeFrom(reg.byUser, slot.userID, slot)
	if slot.session != "" {
		removeFrom(reg.bySession, slot.session, slot)
	}
}

// revokeSession ends every socket opened with the browser session token.
func (reg *socketRegistry) revokeSession(token string) {
	if token == "" {
		return
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	revokeAll(reg.bySession[token])
}

// revokeUser ends every socket of userID, whatever opened it.
func (reg *socketRegistry) revokeUser(userID int64) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	revokeAll(reg.byUser[userID])
}

func revokeAll(slots map[*socketSlot]struct{}) {
	for slot := range slots {
		slot.revoked = true
		if slot.sub != nil {
			slot.sub.Revoke()
		}
	}
}

func addTo[K comparable](m map[K]map[*socketSlot]struct{}, k K, slot *socketSlot) {
	set := m[k]
	if set == nil {
		set = make(map[*socketSlot]struct{})
		m[k] = set
	}
	set[slot] = struct{}{}
}

func removeFrom[K comparable](m map[K]map[*socketSlot]struct{}, k K, slot *socketSlot) {
	set := m[k]
	delete(set, slot)
	if len(set) == 0 {
		delete(m, k)
	}
}

// CloseSessionSockets ends, within moments, every chat socket opened with
// the browser session whose token is given: they close with 4401. Whatever
// ends a session (logout, a password change) calls it.
func (s *Server) CloseSessionSockets(token string) { s.sockets.revokeSession(token) }

// CloseUserSockets ends, within moments, every chat socket of a user,
// opened with a session or a token alike: they close with 4401. Whatever
// closes an account (disabling, deleting) calls it.
func (s *Server) CloseUserSockets(userID int64) { s.sockets.revokeUser(userID) }

// endSession destroys the browser session of ctx and closes the chat
// sockets opened with it.
func (s *Server) endSession(ctx context.Context) error {
	token := s.sessions.Token(ctx)
	if err := s.sessions.Destroy(ctx); err != nil {
		return err
	}
	s.CloseSessionSockets(token)
	return nil
}
