package web

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"maru/store"
	"maru/web/chat"
)

var chatText = map[string]text{
	"chat.title":         {"Chat", "채팅"},
	"chat.rooms":         {"Rooms", "채팅방"},
	"chat.count":         {"%d rooms", "채팅방 %d개"},
	"chat.empty":         {"No rooms yet. Make the first one!", "아직 채팅방이 없습니다. 첫 방을 만들어 보세요!"},
	"chat.created.at":    {"made", "개설"},
	"chat.new":           {"New room", "새 채팅방"},
	"chat.name":          {"Room name", "방 이름"},
	"chat.create":        {"Create", "만들기"},
	"chat.back":          {"All rooms", "모든 채팅방"},
	"chat.log":           {"Messages", "메시지"},
	"chat.nomessages":    {"No messages yet. Say hello!", "아직 메시지가 없습니다. 인사를 건네 보세요!"},
	"chat.older":         {"Scroll up for older messages.", "위로 스크롤하면 이전 메시지를 불러옵니다."},
	"chat.nojs":          {"Live updates need JavaScript: reload the page to see new messages.", "실시간으로 보려면 자바스크립트가 필요합니다. 새 메시지는 페이지를 새로 고치면 보입니다."},
	"chat.message":       {"Message", "메시지"},
	"chat.send":          {"Send", "보내기"},
	"chat.hint":          {"Enter sends, Shift+Enter starts a new line.", "Enter로 보내고, Shift+Enter로 줄을 바꿉니다."},
	"chat.here":          {"Here now", "지금 접속 중"},
	"chat.nobody":        {"Nobody is connected.", "접속한 사람이 없습니다."},
	"chat.connecting":    {"Connecting…", "연결 중…"},
	"chat.live":          {"Connected", "연결됨"},
	"chat.reconnecting":  {"Connection lost. Reconnecting in %s s…", "연결이 끊어졌습니다. %s초 후 다시 연결합니다…"},
	"chat.catchingup":    {"Loading what you missed…", "놓친 메시지를 불러오는 중…"},
	"chat.loggedout":     {"Your session has ended. Log in again to chat.", "세션이 끝났습니다. 채팅하려면 다시 로그인하세요."},
	"chat.gone":          {"This room no longer exists.", "이 채팅방은 더 이상 없습니다."},
	"chat.joined":        {"%s joined", "%s 님이 들어왔습니다"},
	"chat.left":          {"%s left", "%s 님이 나갔습니다"},
	"chat.loading":       {"Loading older messages…", "이전 메시지를 불러오는 중…"},
	"chat.start":         {"This is the start of the room.", "채팅방의 처음입니다."},
	"chat.latest":        {"Jump to the latest", "최신 메시지로"},
	"chat.newbelow":      {"New messages below", "아래에 새 메시지"},
	"chat.err.rate":      {"You are sending too fast. Wait a moment.", "너무 빨리 보내고 있습니다. 잠시 기다리세요."},
	"chat.err.long":      {"This message is too long.", "메시지가 너무 깁니다."},
	"chat.err.invalid":   {"This message cannot be sent.", "이 메시지는 보낼 수 없습니다."},
	"chat.err.server":    {"The message could not be sent. Try again.", "메시지를 보내지 못했습니다. 다시 시도하세요."},
	"chat.err.offline":   {"Not connected: the message was not sent.", "연결되어 있지 않아 메시지를 보내지 못했습니다."},
	"chat.toolong":       {"Keep it to %d characters.", "%d자 이하로 써 주세요."},
	"flash.room.created": {"Room created.", "채팅방을 만들었습니다."},
}

// roomsPage is the data of /chat.
type roomsPage struct {
	Rooms []store.Room
	Total int
	Pager *pager
}

// roomsPageSize is how many rooms /chat shows a page.
const roomsPageSize = 30

// roomPage is the data of /chat/{id}.
type roomPage struct {
	Room     *store.Room
	Messages []store.Message
	// Older says there may be older messages than those shown, for the
	// script to fetch when the reader scrolls up.
	Older   bool
	Members []chat.Member
	MaxLen  int
}

// WSPath is the room's socket, HistoryPath its history in the API.
func (p *roomPage) WSPath() string { return roomOut(p.Room).ChatURL }

// HistoryPath is the room's history in the API.
func (p *roomPage) HistoryPath() string {
	return "/api/chat/room/" + strconv.FormatInt(p.Room.ID, 10) + "/messages/"
}

// roomPageLen is how many of the latest messages a room page shows before
// any script runs: the page is a readable history without JavaScript.
const roomPageLen = 50

func (s *Server) handleChatRoomsPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "chat.title", nil)
	p.Form = &pageForm{lang: p.Lang}
	s.renderRooms(w, r, http.StatusOK, p)
}

// renderRooms shows the list of rooms with the form to make one, which
// may carry a refused name.
func (s *Server) renderRooms(w http.ResponseWriter, r *http.Request, status int, p *pageData) {
	q := r.URL.Query()
	v := new(store.ValidationError)
	page := positiveParam(v, q, "page", 1)
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	rooms, total, err := s.store.RoomsPage(r.Context(), page, roomsPageSize)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p.Data = &roomsPage{Rooms: rooms, Total: total, Pager: newPager(pageLang(r), "/chat", q, page, roomsPageSize, total)}
	s.render(w, r, status, "chat_rooms", p)
}

func (s *Server) handleChatRoomCreatePage(w http.ResponseWriter, r *http.Request) {
	p, f, ok := s.formPage(w, r, "chat.title", nil)
	if !ok {
		return
	}
	room, err := s.createRoom(r.Context(), currentUser(r).ID, f.Value("name"))
	if utf8.RuneCountInString(strings.TrimSpace(f.Value("name"))) > store.MaxRoomNameLen {
		err = store.Invalid("name", p.T("chat.toolong", store.MaxRoomNameLen))
	}
	if err == nil {
		s.flash(r, "flash.room.created")
		redirect(w, r, "/chat/"+strconv.FormatInt(room.ID, 10))
		return
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	s.renderRooms(w, r, http.StatusBadRequest, p)
}

func (s *Server) handleChatRoomPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "chat.title", nil)
	p.Form = &pageForm{lang: p.Lang}
	s.renderRoom(w, r, http.StatusOK, p)
}

// renderRoom shows a room: its latest messages, who is in it, and the
// form to write, which may carry a refused message.
func (s *Server) renderRoom(w http.ResponseWriter, r *http.Request, status int, p *pageData) {
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
	msgs, err := s.store.Messages(r.Context(), room.ID, 0, roomPageLen)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p.Title = room.Name
	p.Data = &roomPage{
		Room:     room,
		Messages: msgs,
		Older:    len(msgs) == roomPageLen,
		Members:  s.hub.Members(room.ID),
		MaxLen:   s.cfg.ChatMaxLen,
	}
	s.render(w, r, status, "chat_room", p)
}

// handleChatSendPage is the room's form without JavaScript: the message
// goes the way of the API's POST /api/chat/message/ (same checks, same
// limit, broadcast to the room's sockets) and the browser comes back to
// the room.
func (s *Server) handleChatSendPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, f, ok := s.formPage(w, r, "chat.title", nil)
	if !ok {
		return
	}
	body, errType, problem := s.checkChatMessage(f.Value("message"))
	switch {
	case errType == errMessageTooLong:
		err = store.Invalid("message", p.T("chat.toolong", s.cfg.ChatMaxLen))
	case problem != "":
		err = store.Invalid("message", problem)
	default:
		_, err = s.sendMessage(r.Context(), currentUser(r).ID, id, body)
	}
	if err == nil {
		redirect(w, r, "/chat/"+strconv.FormatInt(id, 10)+"#chat-form")
		return
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	s.renderRoom(w, r, http.StatusBadRequest, p)
}
