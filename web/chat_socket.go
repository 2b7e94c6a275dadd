package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"maru/store"
	"maru/web/chat"
)

// Error frames of the chat socket. Messages are fixed texts: nothing a
// client sends and no internal error is echoed.
var (
	frameInvalid     = errorFrame(errInvalidRequest, "Invalid message format.")
	frameTooLong     = errorFrame(errMessageTooLong, "Message is too long.")
	frameRateLimited = errorFrame(errRateLimited, "Too many messages: slow down.")
	frameRoomGone    = errorFrame(errNotFoundFrame, "This room no longer exists.")
	frameServerError = errorFrame(errServerErrorFrame, "The message could not be sent. Try again.")
)

func errorFrame(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"error_type": typ, "message": msg})
	return b
}

const (
	// rateStrikes is how many messages in a row a socket may have refused
	// by the rate limit before it is closed as abusive.
	rateStrikes = 10
	// writeBatch is how many queued frames one turn of the writer writes
	// before it looks at its other duties (pings, being dropped) again.
	writeBatch = 64
)

// handleChatSocket serves /ws/chat/{room_id}/chat/. Everything that can be
// refused is refused before the upgrade, as a JSON answer a client can
// read: no user (401), an unknown room (404), a cookie from another
// origin (403).
func (s *Server) handleChatSocket(w http.ResponseWriter, r *http.Request) {
	user, byCookie, err := s.socketUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	roomID, err := pathID(r, "room_id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	room, err := s.store.RoomByID(r.Context(), roomID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Only the session cookie is an ambient credential that a page on
	// another site could make a browser send; a token had to be given
	// on purpose, so token sockets are welcome from anywhere.
	if byCookie && !s.sameOrigin(r) {
		s.writeError(w, r, errDetail(http.StatusForbidden, "Cross-origin WebSocket refused."))
		return
	}
	// A user's sockets are counted, and those opened with a browser session
	// are known by it, so that ending the session ends them too.
	var session string
	if byCookie {
		session = s.sessions.Token(r.Context())
	}
	slot, err := s.sockets.reserve(user.ID, session)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer s.sockets.release(slot)
	// The deadline of ordinary responses would cut the socket off after
	// WriteTimeout; the socket bounds each write itself (writeFrames).
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the origin was checked above, by the rule just described
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept has answered the client
	}
	defer c.CloseNow()
	// A message of ChatMaxLen characters, each escaped as a surrogate
	// pair (12 bytes), plus its envelope: anything larger is no message.
	c.SetReadLimit(int64(s.cfg.ChatMaxLen)*12 + 1024)

	sub, err := s.hub.Join(room.ID, chat.Member{ID: user.ID, Username: user.Nickname})
	if err != nil {
		c.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer s.hub.Leave(sub)
	s.sockets.attach(slot, sub)

	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	written := make(chan struct{})
	go func() {
		defer close(written)
		s.writeFrames(ctx, c, sub)
	}()
	s.readFrames(ctx, c, sub, user, room.ID)
	cancel()
	<-written
}

// socketUser finds who opens a socket: the Authorization header or the
// session cookie (both read by the authenticate middleware) or ?token=,
// which browsers need since they cannot set headers on a WebSocket.
// An explicit token wins over the cookie. byCookie says the cookie decided.
func (s *Server) socketUser(r *http.Request) (u *store.User, byCookie bool, err error) {
	ri := info(r)
	if ri.authErr != nil {
		return nil, false, ri.authErr
	}
	if r.Header.Get("Authorization") != "" && ri.user != nil {
		return ri.user, false, nil
	}
	if tok := r.URL.Query().Get("token"); tok != "" {
		u, err := s.userFromAccessToken(r.Context(), tok)
		return u, false, err
	}
	if ri.user != nil {
		return ri.user, true, nil
	}
	return nil, false, errNotAuthenticated
}

// sameOrigin reports whether a request comes from our own pages: its
// Origin is absent (not a browser), the host it was sent to, or BaseURL.
func (s *Server) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if s.base != nil && strings.EqualFold(u.Scheme, s.base.Scheme) && strings.EqualFold(u.Host, s.base.Host) {
		return true
	}
	return strings.EqualFold(u.Host, r.Host)
}

// readFrames handles what the client sends until the socket ends. Only
// this goroutine reads, and it also keeps the rate limit: no lock is
// shared with any other socket on the way.
func (s *Server) readFrames(ctx context.Context, c *websocket.Conn, sub *chat.Subscriber, user *store.User, roomID int64) {
	limit := newRateLimiter(s.cfg.ChatRate, time.Now)
	strikes := 0
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if !limit.allow() {
			s.metrics.throttled("chat_rate")
			if strikes++; strikes >= rateStrikes {
				c.Close(websocket.StatusPolicyViolation, "rate limit exceeded")
				return
			}
			sub.Send(frameRateLimited)
			continue
		}
		strikes = 0
		body, refusal := s.readChatFrame(typ, data)
		if refusal != nil {
			sub.Send(refusal)
			continue
		}
		m, err := s.store.AddMessage(ctx, store.NewMessage{RoomID: roomID, UserID: user.ID, Body: body})
		switch {
		case errors.Is(err, store.ErrNotFound):
			sub.Send(frameRoomGone)
			continue
		case err != nil:
			s.log.LogAttrs(ctx, slog.LevelError, "store chat message", slog.Int64("room", roomID), slog.Any("err", err))
			sub.Send(frameServerError)
			continue
		}
		frame, err := json.Marshal(s.messageOut(m))
		if err != nil {
			s.log.Error("encode chat message", "err", err)
			continue
		}
		// Encoded once here, the same bytes go to every socket of the room.
		s.publish.Publish(roomID, frame)
	}
}

// readChatFrame reads one frame a client sent: the text of its
// chat.message, checked and normalized by checkChatMessage, or else the
// error frame that answers it.
func (s *Server) readChatFrame(typ websocket.MessageType, data []byte) (body string, refusal []byte) {
	var in struct {
		Type    string  `json:"type"`
		Message *string `json:"message"`
	}
	if typ != websocket.MessageText || json.Unmarshal(data, &in) != nil || in.Type != frameMessage || in.Message == nil {
		return "", frameInvalid
	}
	body, errType, _ := s.checkChatMessage(*in.Message)
	switch errType {
	case "":
		return body, nil
	case errMessageTooLong:
		return "", frameTooLong
	default:
		return "", frameInvalid
	}
}

// writeFrames is the socket's only writer: it writes the subscriber's
// queue out, pings the peer when idle, and closes the socket when the hub
// drops it. A write that stalls past ChatWriteTimeout, or a ping left
// unanswered as long, closes the socket: the peer is too slow or gone.
func (s *Server) writeFrames(ctx context.Context, c *websocket.Conn, sub *chat.Subscriber) {
	ping := time.NewTicker(s.cfg.ChatPingInterval)
	defer ping.Stop()
	// One timer per socket bounds every write. A deadline in the write's
	// context would do the same, but costs a context, a timer and a
	// cancellation hook per write: at 40,000 frames a second that was a
	// sixth of the server's time.
	stall := time.AfterFunc(time.Hour, func() { c.CloseNow() })
	stall.Stop()
	defer stall.Stop()
	for {
		select {
		case f := <-sub.Frames():
			stall.Reset(s.cfg.ChatWriteTimeout)
			err := writeQueued(c, sub, f)
			stall.Stop()
			if err != nil {
				c.CloseNow()
				return
			}
		case <-sub.Done():
			switch sub.Reason() {
			case chat.GoingAway, chat.RoomGone:
				// What was queued is already stored (or is the notice of
				// the room's end); deliver it before saying goodbye, so a
				// clean close loses nothing a client was about to see.
				if len(sub.Frames()) > 0 {
					stall.Reset(s.cfg.ChatWriteTimeout)
					writeQueued(c, sub, <-sub.Frames())
					stall.Stop()
				}
				if sub.Reason() == chat.RoomGone {
					c.Close(statusRoomGone, "room deleted")
				} else {
					c.Close(websocket.StatusGoingAway, "server shutting down")
				}
			case chat.Revoked:
				c.Close(statusCredentialsGone, "session ended: log in again")
			default:
				c.Close(websocket.StatusTryAgainLater, "too slow: reconnect and load the history")
			}
			return
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, s.cfg.ChatWriteTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				c.CloseNow()
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// writeQueued writes f and then whatever else is queued, up to a batch. The
// caller bounds the whole batch in time; the writes themselves take a
// context without a deadline, the cheap path of the library.
func writeQueued(c *websocket.Conn, sub *chat.Subscriber, f []byte) error {
	for i := 1; ; i++ {
		if err := c.Write(context.Background(), websocket.MessageText, f); err != nil {
			return err
		}
		if i == writeBatch {
			return nil // the rest waits for the next batch, not taken off the queue
		}
		select {
		case f = <-sub.Frames():
		default:
			return nil
		}
	}
}

// rateLimiter is one socket's token bucket: perSecond messages a second,
// bursts of twice that. It belongs to the socket's reading goroutine, so
// its lock is never contended; a negative rate turns it off.
type rateLimiter struct {
	l   *rate.Limiter
	now func() time.Time
}

func newRateLimiter(perSecond float64, now func() time.Time) *rateLimiter {
	if perSecond < 0 {
		return &rateLimiter{l: rate.NewLimiter(rate.Inf, 0), now: now}
	}
	return &rateLimiter{l: rate.NewLimiter(rate.Limit(perSecond), max(int(math.Ceil(2*perSecond)), 1)), now: now}
}

func (l *rateLimiter) allow() bool { return l.l.AllowN(l.now(), 1) }
