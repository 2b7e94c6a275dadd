package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"maru/store"
)

// roomJSON is the room object of DESIGN.md.
type roomJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	ChatURL   string `json:"chat_url"`
	CreatedAt string `json:"created_at"`
}

func roomOut(r *store.Room) roomJSON {
	return roomJSON{
		ID:        r.ID,
		Name:      r.Name,
		ChatURL:   "/ws/chat/" + strconv.FormatInt(r.ID, 10) + "/chat/",
		CreatedAt: drfTime(r.CreatedAt),
	}
}

// messageJSON is a chat message: the chat.message frame, and also each
// item of the history and the answer to POST /api/chat/message/, so that
// a client handles all three alike.
type messageJSON struct {
	Type              string  `json:"type"`
	ID                int64   `json:"id"`
	Room              int64   `json:"room"`
	Message           string  `json:"message"`
	Sender            string  `json:"sender"`
	Nickname          string  `json:"nickname"`
	ProfilePictureURL *string `json:"profile_picture_url"`
	CreatedAt         string  `json:"created_at"`
}

// messageOut shapes m. It depends on nothing of the request the message
// came in on: the same bytes are broadcast to every socket of the room.
func (s *Server) messageOut(m *store.Message) messageJSON {
	return messageJSON{
		Type:              frameMessage,
		ID:                m.ID,
		Room:              m.RoomID,
		Message:           m.Body,
		Sender:            m.Sender.Email,
		Nickname:          m.Sender.Nickname,
		ProfilePictureURL: s.pictureURL(&m.Sender),
		CreatedAt:         drfTime(m.CreatedAt),
	}
}

func (s *Server) handleRoomCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name *string `json:"name"`
	}
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Name == nil {
		s.writeError(w, r, store.Invalid("name", msgRequired))
		return
	}
	room, err := s.createRoom(r.Context(), currentUser(r).ID, *req.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, roomOut(room))
}

// createRoom makes a room for the API and the rooms page alike: a write
// from the user's bucket, given back when the name is refused.
func (s *Server) createRoom(ctx context.Context, userID int64, name string) (*store.Room, error) {
	slot, err := s.roomLimit.take(userID)
	if err != nil {
		return nil, err
	}
	room, err := s.store.CreateRoom(ctx, userID, name)
	if err != nil {
		slot.cancel()
		return nil, err
	}
	return room, nil
}

// handleRooms lists the rooms, oldest first, paged like the post list.
func (s *Server) handleRooms(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := new(store.ValidationError)
	page, size := pageParams(v, q)
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	rooms, total, err := s.store.RoomsPage(r.Context(), page, size)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setPageHeaders(w, "/api/chat/room/", q, nil, page, size, total)
	out := make([]roomJSON, len(rooms))
	for i := range rooms {
		out[i] = roomOut(&rooms[i])
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleRoom(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	room, err := s.store.RoomByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, roomOut(room))
}

// handleRoomMessages serves a room's history: ?limit=n (default 50, at
// most 200; more is clamped) messages older than ?before=<id>, newest last;
// or, with ?after=<id>, the first of those newer than it, also newest last,
// for a client catching up after a reconnect. before and after together
// are refused: a window between them would be a third kind of query
// nobody needs.
func (s *Server) handleRoomMessages(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	v := new(store.ValidationError)
	idParam := func(key string) int64 {
		raw := q.Get(key)
		if raw == "" {
			return 0
		}
		n, ok := parseWhole(raw) // an id past 64 bits is past every message
		if !ok || n < 1 {
			v.Add(key, "A valid integer is required.")
		}
		return n
	}
	before, after := idParam("before"), idParam("after")
	if q.Get("before") != "" && q.Get("after") != "" {
		v.Add("non_field_errors", "Give before or after, not both.")
	}
	limit := store.DefaultHistoryLen
	if raw := q.Get("limit"); raw != "" {
		n, ok := parseWhole(raw) // however large, it is lowered to MaxHistoryLen
		if !ok || n < 1 {
			v.Add("limit", "Ensure this value is a whole number greater than or equal to 1.")
		}
		limit = int(min(max(n, 1), store.MaxHistoryLen))
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	var msgs []store.Message
	if q.Get("after") != "" {
		msgs, err = s.store.MessagesAfter(r.Context(), id, after, limit)
	} else {
		msgs, err = s.store.Messages(r.Context(), id, before, limit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]messageJSON, len(msgs))
	for i := range msgs {
		out[i] = s.messageOut(&msgs[i])
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// handleMessageCreate stores a message sent over HTTP and broadcasts it to
// the room's sockets exactly as if it had been sent on one of them.
func (s *Server) handleMessageCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Type    *string         `json:"type"`
		Message *string         `json:"message"`
		Room    json.RawMessage `json:"room"`
	}
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	v := new(store.ValidationError)
	if req.Type != nil && *req.Type != frameMessage {
		v.Add("type", fmt.Sprintf("%q is not a valid choice.", *req.Type))
	}
	var body string
	if req.Message == nil {
		v.Add("message", msgRequired)
	} else {
		var problem string
		if body, _, problem = s.checkChatMessage(*req.Message); problem != "" {
			v.Add("message", problem)
		}
	}
	roomID, ok := parseRoomID(req.Room)
	if !ok {
		if len(req.Room) == 0 || string(req.Room) == "null" {
			v.Add("room", msgRequired)
		} else {
			v.Add("room", "Incorrect type. Expected pk value.")
		}
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.sendMessage(r.Context(), currentUser(r).ID, roomID, body)
	if errors.Is(err, store.ErrNotFound) {
		err = store.Invalid("room", fmt.Sprintf("Invalid pk \"%d\" - object does not exist.", roomID))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, out)
}

// sendMessage is a message sent over HTTP, by the API or the room page's
// form: it takes a write from the user's bucket, stores the message (body
// already checked by checkChatMessage) and broadcasts it to the room's
// sockets exactly as if it had come on one of them. An unknown room is
// store.ErrNotFound, and costs the user nothing.
func (s *Server) sendMessage(ctx context.Context, userID, roomID int64, body string) (messageJSON, error) {
	slot, err := s.messageLimit.take(userID)
	if err != nil {
		return messageJSON{}, err
	}
	m, err := s.store.AddMessage(ctx, store.NewMessage{RoomID: roomID, UserID: userID, Body: body})
	if err != nil {
		slot.cancel()
		return messageJSON{}, err
	}
	out := s.messageOut(m)
	frame, err := json.Marshal(out)
	if err != nil {
		return messageJSON{}, err
	}
	s.publish.Publish(m.RoomID, frame)
	return out, nil
}

// parseRoomID reads a room id given as a JSON number or, as DRF also
// accepts, a string of digits.
func parseRoomID(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 1 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		raw = []byte(strings.TrimSpace(s))
	}
	id, err := strconv.ParseInt(string(raw), 10, 64)
	return id, err == nil && id > 0
}

// Error types of chat error frames, and the chat.message type.
const (
	frameMessage        = "chat.message"
	errInvalidRequest   = "invalid_request"
	errMessageTooLong   = "message_too_long"
	errRateLimited      = "rate_limited"
	errNotFoundFrame    = "not_found"
	errServerErrorFrame = "server_error"
)

// checkChatMessage normalizes a message and checks it against the limits,
// for the socket and the REST endpoint alike. It returns the text to store,
// or the error type of a socket's error frame and the field message of the
// REST answer.
func (s *Server) checkChatMessage(msg string) (body, errType, problem string) {
	body = strings.TrimSpace(strings.ReplaceAll(msg, "\r\n", "\n"))
	switch {
	case body == "":
		return "", errInvalidRequest, msgBlank
	case utf8.RuneCountInString(body) > s.cfg.ChatMaxLen:
		return "", errMessageTooLong, fmt.Sprintf("Ensure this field has no more than %d characters.", s.cfg.ChatMaxLen)
	case !utf8.ValidString(body) || strings.IndexFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0:
		return "", errInvalidRequest, "This field may not contain control characters."
	}
	return body, "", ""
}
