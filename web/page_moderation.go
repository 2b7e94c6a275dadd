package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"maru/store"
)

// The admin pages of running a community: accounts (disable, enable,
// reset links), invites, rooms and their messages, and the audit log.
// Each action goes through the helper its API route uses (api_admin.go).

var moderationText = map[string]text{
	"admin.invites":                       {"Invites", "초대"},
	"admin.rooms":                         {"Rooms", "채팅방"},
	"admin.audit":                         {"Audit log", "감사 기록"},
	"admin.users.disabled":                {"Disabled accounts (%d)", "비활성화된 계정 (%d)"},
	"admin.users.disable":                 {"Disable", "비활성화"},
	"admin.users.enable":                  {"Enable", "활성화"},
	"admin.users.reset":                   {"Reset link", "재설정 링크"},
	"admin.users.disabledtag":             {"Disabled", "비활성"},
	"admin.disable.confirm":               {"Disable the account of %s?", "%s 계정을 비활성화할까요?"},
	"admin.disable.why":                   {"They are logged out everywhere at once, chat included, and cannot log in until an admin enables the account again. Their posts and messages stay.", "채팅을 포함해 모든 곳에서 바로 로그아웃되고, 관리자가 다시 활성화할 때까지 로그인할 수 없습니다. 쓴 글과 메시지는 남습니다."},
	"admin.reset.title":                   {"Password reset link", "비밀번호 재설정 링크"},
	"admin.reset.for":                     {"For %s", "%s 계정용"},
	"admin.reset.label":                   {"Link to pass on", "전달할 링크"},
	"admin.reset.how":                     {"maru sends no e-mail: give this link to its owner yourself. It works once, until %s, and stops working if the password changes another way.", "maru는 메일을 보내지 않습니다. 이 링크를 계정 주인에게 직접 전해 주세요. %s까지 한 번만 쓸 수 있고, 다른 방법으로 비밀번호가 바뀌면 쓸 수 없게 됩니다."},
	"admin.reset.back":                    {"Back to users", "사용자 목록으로"},
	"admin.inv.new":                       {"New invite", "새 초대"},
	"admin.inv.uses":                      {"How many people may use it", "사용할 수 있는 인원"},
	"admin.inv.days":                      {"Valid for days (0: until revoked)", "유효 기간, 일 (0이면 취소할 때까지)"},
	"admin.inv.create":                    {"Create invite", "초대 만들기"},
	"admin.inv.list":                      {"Invites (%d)", "초대 (%d)"},
	"admin.inv.empty":                     {"No invites yet.", "아직 초대가 없습니다."},
	"admin.inv.link":                      {"Link for invite %s", "초대 %s 링크"},
	"admin.inv.used":                      {"%d of %d used", "%d / %d 사용"},
	"admin.inv.expires":                   {"expires", "만료"},
	"admin.inv.never":                     {"never expires", "만료 없음"},
	"admin.inv.active":                    {"Active", "사용 가능"},
	"admin.inv.revoked":                   {"Revoked", "취소됨"},
	"admin.inv.usedup":                    {"Used up", "모두 사용됨"},
	"admin.inv.expired":                   {"Expired", "만료됨"},
	"admin.inv.revoke":                    {"Revoke", "초대 취소"},
	"admin.inv.mode.open":                 {"Sign-up is open: anyone can register without an invite. Start the server with -signup invite to require one.", "지금은 누구나 초대 없이 가입할 수 있습니다. 초대가 있어야 가입하게 하려면 서버를 -signup invite로 시작하세요."},
	"admin.inv.mode.invite":               {"Sign-up is by invitation: share an invite's link with the person you invite.", "초대받은 사람만 가입할 수 있습니다. 초대할 사람에게 초대 링크를 보내세요."},
	"admin.inv.mode.closed":               {"Sign-up is closed: invites do not work until the server runs with -signup invite.", "가입이 닫혀 있습니다. 서버를 -signup invite로 시작해야 초대가 동작합니다."},
	"admin.rooms.list":                    {"Rooms (%d)", "채팅방 (%d)"},
	"admin.rooms.empty":                   {"No rooms yet.", "아직 채팅방이 없습니다."},
	"admin.rooms.delete":                  {"Delete room", "방 삭제"},
	"admin.rooms.confirm":                 {"Delete the room “%s”?", "“%s” 방을 삭제할까요?"},
	"admin.rooms.why":                     {"Its %d messages are deleted with it, and everyone in it now is shown that it is gone. This cannot be undone.", "메시지 %d개도 함께 삭제되고, 지금 방에 있는 사람에게는 방이 없어졌다고 표시됩니다. 되돌릴 수 없습니다."},
	"admin.rooms.hint":                    {"To delete one message, open its room: as an admin you see a Delete link beside each message.", "메시지 하나만 지우려면 방에 들어가세요. 관리자에게는 메시지마다 삭제 링크가 보입니다."},
	"admin.msg.delete":                    {"Delete message", "메시지 삭제"},
	"admin.msg.confirm":                   {"Delete this message by %s?", "%s 님의 이 메시지를 삭제할까요?"},
	"admin.msg.why":                       {"It disappears at once from the room for everyone, and from its history. This cannot be undone.", "방에 있는 모든 사람의 화면과 기록에서 바로 사라집니다. 되돌릴 수 없습니다."},
	"admin.audit.empty":                   {"Nothing recorded yet.", "아직 기록이 없습니다."},
	"admin.audit.older":                   {"Older entries", "이전 기록"},
	"admin.audit.newest":                  {"Newest entries", "최신 기록"},
	"admin.audit.hint":                    {"Every action of an admin, and of the operator at the command line, newest first.", "관리자와 운영자(명령줄)가 한 모든 일을 최신순으로 보여 줍니다."},
	"admin.keep":                          {"Keep it", "취소"},
	"audit.user.disable":                  {"disabled an account", "계정 비활성화"},
	"audit.user.enable":                   {"enabled an account", "계정 활성화"},
	"audit.user.make_admin":               {"made an admin", "관리자 지정"},
	"audit.user.remove_admin":             {"removed an admin", "관리자 해제"},
	"audit.user.reset_link":               {"made a password reset link", "비밀번호 재설정 링크 발급"},
	"audit.user.set_password":             {"set a password", "비밀번호 설정"},
	"audit.invite.create":                 {"created an invite", "초대 생성"},
	"audit.invite.revoke":                 {"revoked an invite", "초대 취소"},
	"audit.post.delete":                   {"deleted a post", "글 삭제"},
	"audit.room.delete":                   {"deleted a room", "채팅방 삭제"},
	"audit.message.delete":                {"deleted a chat message", "채팅 메시지 삭제"},
	"chat.delete":                         {"Delete", "삭제"},
	"chat.delete.label":                   {"Delete this message", "이 메시지 삭제"},
	"flash.user.disabled":                 {"%s is disabled and logged out everywhere", "%s 계정을 비활성화하고 모든 곳에서 로그아웃시켰습니다"},
	"flash.user.enabled":                  {"%s may log in again", "%s 계정이 다시 로그인할 수 있습니다"},
	"flash.invite.created":                {"Invite %s created: share its link below", "초대 %s을(를) 만들었습니다. 아래 링크를 보내세요"},
	"flash.invite.revoked":                {"Invite revoked", "초대를 취소했습니다"},
	"flash.room.deleted":                  {"Room %s deleted", "%s 방을 삭제했습니다"},
	"flash.msg.deleted":                   {"Message deleted", "메시지를 삭제했습니다"},
	"msg:" + msgModerateSelf:              {"You cannot do this to your own account: ask another admin.", "자기 계정에는 할 수 없습니다. 다른 관리자에게 요청하세요."},
	"msg:" + msgLastAdmin:                 {"This is the last admin: make another user admin first.", "마지막 관리자입니다. 먼저 다른 사람을 관리자로 지정하세요."},
	"msg:This account has been disabled.": {"This account has been disabled. Ask an admin of this server.", "비활성화된 계정입니다. 서버 관리자에게 문의하세요."},
	"msg:A valid integer is required.":    {"Enter a whole number.", "정수를 입력하세요."},
	// The store's messages for the invite's limits, which carry two numbers.
	"msg:" + fmt.Sprintf("Ensure this value is between 1 and %d.", store.MaxInviteUses): {
		fmt.Sprintf("Enter a number from 1 to %d.", store.MaxInviteUses), fmt.Sprintf("1에서 %d 사이의 수를 입력하세요.", store.MaxInviteUses)},
	"msg:" + fmt.Sprintf("Ensure this value is between 0 and %d.", maxInviteDays): {
		fmt.Sprintf("Enter a number from 0 to %d.", maxInviteDays), fmt.Sprintf("0에서 %d 사이의 수를 입력하세요.", maxInviteDays)},
}

// pageSiteURL is path as a whole link to show on an admin page, for the
// admin to pass on: under the configured base URL, or else under the
// address the admin's own browser used, which is the best guess there is
// (the API, which machines call, gives the bare path instead).
func (s *Server) pageSiteURL(r *http.Request, path string) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL + path
	}
	return requestScheme(r) + "://" + r.Host + path
}

// idPath is prefix with id and suffix, as the pages' links and forms use.
func idPath(prefix string, id int64, suffix string) string {
	return prefix + strconv.FormatInt(id, 10) + suffix
}

// userByPath is the account the {id} of the path names; a closed account
// is not found.
func (s *Server) userByPath(r *http.Request) (*store.User, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(r.Context(), id)
	if err == nil && u.Deleted {
		err = errNotFound
	}
	return u, err
}

// handleAdminDisableConfirm asks before disabling an account.
func (s *Server) handleAdminDisableConfirm(w http.ResponseWriter, r *http.Request) {
	u, err := s.userByPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query().Get("q")
	p := s.newPage(r, "admin.users.disable", nil)
	action := idPath("/admin/users/", u.ID, "/disable")
	if q != "" {
		action += "?q=" + url.QueryEscape(q)
	}
	p.Data = &adminConfirm{
		adminFrame: newAdminFrame("/admin/users"),
		Question:   p.T("admin.disable.confirm", u.Email),
		Why:        p.T("admin.disable.why"),
		Action:     action,
		Back:       adminUsersPath(q),
	}
	s.render(w, r, http.StatusOK, "admin_confirm", p)
}

func (s *Server) handleAdminDisable(w http.ResponseWriter, r *http.Request) {
	s.adminSetDisabled(w, r, true, r.URL.Query().Get("q"))
}

func (s *Server) handleAdminEnable(w http.ResponseWriter, r *http.Request) {
	s.adminSetDisabled(w, r, false, "")
}

// adminSetDisabled disables or enables an account from the users page and
// goes back to the search it came from (q, or the form's q).
func (s *Server) adminSetDisabled(w http.ResponseWriter, r *http.Request, disabled bool, q string) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, f, ok := s.formPage(w, r, "admin.users", nil)
	if !ok {
		return
	}
	if q == "" {
		q = f.Value("q")
	}
	u, err := s.setDisabled(r, id, disabled)
	if err != nil {
		if !f.fail(err) {
			s.writeError(w, r, err)
			return
		}
		f.errors = map[string][]string{"admin": f.errors["non_field_errors"]}
		s.renderAdminUsers(w, r, p, http.StatusBadRequest, q)
		return
	}
	if disabled {
		s.flashWith(r, "flash.user.disabled", u.Email)
	} else {
		s.flashWith(r, "flash.user.enabled", u.Email)
	}
	redirect(w, r, adminUsersPath(q))
}

// adminResetLink is the data of the page that shows a new reset link.
type adminResetLink struct {
	adminFrame
	Email   string
	URL     string
	Expires time.Time
	Back    string
}

// handleAdminResetLink makes a password reset link and shows it, once:
// only its hash is kept, so the page is answered to the POST rather than
// through the session and a redirect.
func (s *Server) handleAdminResetLink(w http.ResponseWriter, r *http.Request) {
	u, err := s.userByPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	_, f, ok := s.formPage(w, r, "admin.reset.title", nil)
	if !ok {
		return
	}
	link, err := s.resetLink(r, u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	expires, _ := time.Parse(time.RFC3339Nano, link.ExpiresAt)
	path := strings.TrimPrefix(link.URL, s.cfg.BaseURL)
	p := s.newPage(r, "admin.reset.title", nil)
	p.Data = &adminResetLink{
		adminFrame: newAdminFrame("/admin/users"),
		Email:      u.Email,
		URL:        s.pageSiteURL(r, path),
		Expires:    expires,
		Back:       adminUsersPath(f.Value("q")),
	}
	s.render(w, r, http.StatusOK, "admin_reset_link", p)
}

// adminInvite is an invite as the invites page shows it.
type adminInvite struct {
	store.Invite
	URL    string
	Status string // catalog key
}

// adminInvites is the data of /admin/invites.
type adminInvites struct {
	adminFrame
	Invites []adminInvite
	Mode    string // catalog key of the sign-up mode's note
}

func (s *Server) handleAdminInvites(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "admin.invites", nil)
	p.Form = &pageForm{lang: p.Lang}
	p.Form.Set("max_uses", strconv.Itoa(defaultInviteUses))
	p.Form.Set("expires_in_days", strconv.Itoa(defaultInviteDays))
	s.renderAdminInvites(w, r, p, http.StatusOK)
}

func (s *Server) renderAdminInvites(w http.ResponseWriter, r *http.Request, p *pageData, status int) {
	list, err := s.store.Invites(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.store.Now()
	data := &adminInvites{adminFrame: newAdminFrame("/admin/invites"), Mode: "admin.inv.mode." + s.cfg.Signup}
	if s.cfg.Signup == "" {
		data.Mode = "admin.inv.mode.open"
	}
	for _, inv := range list {
		st := "admin.inv.active"
		switch {
		case !inv.RevokedAt.IsZero():
			st = "admin.inv.revoked"
		case inv.Uses >= inv.MaxUses:
			st = "admin.inv.usedup"
		case !inv.Usable(now):
			st = "admin.inv.expired"
		}
		data.Invites = append(data.Invites, adminInvite{Invite: inv, URL: s.pageSiteURL(r, inviteLink(inv.Code)), Status: st})
	}
	p.Path = "/admin/invites"
	p.Data = data
	s.render(w, r, status, "admin_invites", p)
}

func (s *Server) handleAdminInviteCreate(w http.ResponseWriter, r *http.Request) {
	p, f, ok := s.formPage(w, r, "admin.invites", nil)
	if !ok {
		return
	}
	v := new(store.ValidationError)
	number := func(field string, def int) int {
		raw := strings.TrimSpace(f.Value(field))
		if raw == "" {
			return def
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			v.Add(field, "A valid integer is required.")
		}
		return n
	}
	uses, days := number("max_uses", defaultInviteUses), number("expires_in_days", defaultInviteDays)
	err := v.Err()
	if err == nil {
		var inv *store.Invite
		if inv, err = s.createInvite(r, uses, days); err == nil {
			s.flashWith(r, "flash.invite.created", inv.Code)
			redirect(w, r, "/admin/invites")
			return
		}
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	s.renderAdminInvites(w, r, p, http.StatusBadRequest)
}

func (s *Server) handleAdminInviteRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.revokeInvite(r, id)
	}
	if err != nil {
		s.writeError(w, r, err) // one already revoked is the 404 page
		return
	}
	s.flash(r, "flash.invite.revoked")
	redirect(w, r, "/admin/invites")
}

// adminRooms is the data of /admin/rooms.
type adminRooms struct {
	adminFrame
	Rooms []store.Room
	Total int
	Pager *pager
}

func (s *Server) handleAdminRooms(w http.ResponseWriter, r *http.Request) {
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
	p := s.newPage(r, "admin.rooms", nil)
	p.Data = &adminRooms{adminFrame: newAdminFrame("/admin/rooms"), Rooms: rooms, Total: total,
		Pager: newPager(pageLang(r), "/admin/rooms", q, page, roomsPageSize, total)}
	s.render(w, r, http.StatusOK, "admin_rooms", p)
}

// handleAdminRoomConfirm asks before deleting a room, saying how many
// messages go with it.
func (s *Server) handleAdminRoomConfirm(w http.ResponseWriter, r *http.Request) {
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
	n, err := s.store.RoomMessageCount(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "admin.rooms.delete", nil)
	p.Data = &adminConfirm{
		adminFrame: newAdminFrame("/admin/rooms"),
		Question:   p.T("admin.rooms.confirm", room.Name),
		Why:        p.T("admin.rooms.why", n),
		Action:     idPath("/admin/rooms/", id, "/delete"),
		Back:       "/admin/rooms",
	}
	s.render(w, r, http.StatusOK, "admin_confirm", p)
}

func (s *Server) handleAdminRoomDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	room, err := s.deleteRoom(r, id)
	if err != nil {
		s.writeError(w, r, err) // one already deleted is the 404 page
		return
	}
	s.flashWith(r, "flash.room.deleted", room.Name)
	redirect(w, r, "/admin/rooms")
}

// handleAdminMessageConfirm asks before deleting a chat message, showing
// it; the room page links here, for admins, beside each message.
func (s *Server) handleAdminMessageConfirm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.store.MessageByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "admin.msg.delete", nil)
	p.Data = &adminConfirm{
		adminFrame: newAdminFrame("/admin/rooms"),
		Question:   p.T("admin.msg.confirm", m.Sender.Nickname),
		Quote:      m.Body,
		Why:        p.T("admin.msg.why"),
		Action:     idPath("/admin/messages/", id, "/delete"),
		Back:       idPath("/chat/", m.RoomID, "#m-"+strconv.FormatInt(id, 10)),
	}
	s.render(w, r, http.StatusOK, "admin_confirm", p)
}

func (s *Server) handleAdminMessageDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.deleteMessage(r, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.flash(r, "flash.msg.deleted")
	redirect(w, r, idPath("/chat/", m.RoomID, ""))
}

// adminAudit is the data of /admin/audit: a page of the log, newest
// first, and where the next older page starts (0: none).
type adminAudit struct {
	adminFrame
	Entries []auditRow
	Older   int64
	Paged   bool // not the newest page
}

// auditRow is an entry of the log with its action in words, or its name
// when the catalog has none.
type auditRow struct {
	store.AuditEntry
	Label string
}

func (s *Server) handleAdminAudit(w http.ResponseWriter, r *http.Request) {
	v := new(store.ValidationError)
	before := positiveParam(v, r.URL.Query(), "before", 0)
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, err := s.store.AuditLog(r.Context(), int64(before), defaultAuditPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "admin.audit", nil)
	data := &adminAudit{adminFrame: newAdminFrame("/admin/audit"), Paged: before > 0}
	for _, e := range entries {
		label := e.Action
		if _, ok := catalog["audit."+e.Action]; ok {
			label = p.T("audit." + e.Action)
		}
		data.Entries = append(data.Entries, auditRow{AuditEntry: e, Label: label})
	}
	if len(entries) == defaultAuditPage {
		data.Older = entries[len(entries)-1].ID
	}
	p.Data = data
	s.render(w, r, http.StatusOK, "admin_audit", p)
}
