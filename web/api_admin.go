package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"maru/store"
)

// The admin API, under /api/admin/: invites, password reset links, and
// moderation (disabling accounts, removing posts, rooms and messages).
// Every route needs an admin; every change is written to the audit log.
// The admin pages call the same helpers as these handlers, so the two
// cannot disagree on a rule.

type inviteJSON struct {
	ID        int64   `json:"id"`
	Code      string  `json:"code"`
	URL       string  `json:"url"`
	MaxUses   int     `json:"max_uses"`
	Uses      int     `json:"uses"`
	Usable    bool    `json:"usable"`
	ExpiresAt *string `json:"expires_at"`
	RevokedAt *string `json:"revoked_at"`
	CreatedAt string  `json:"created_at"`
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := drfTime(t)
	return &s
}

func (s *Server) inviteOut(inv *store.Invite) inviteJSON {
	return inviteJSON{
		ID: inv.ID, Code: inv.Code, URL: s.siteURL(inviteLink(inv.Code)),
		MaxUses: inv.MaxUses, Uses: inv.Uses, Usable: inv.Usable(s.store.Now()),
		ExpiresAt: optTime(inv.ExpiresAt), RevokedAt: optTime(inv.RevokedAt), CreatedAt: drfTime(inv.CreatedAt),
	}
}

// inviteLink is the registration page with the code filled in, the link an
// admin shares.
func inviteLink(code string) string { return "/register?invite=" + url.QueryEscape(code) }

// siteURL is path under the configured base URL, or path itself: never
// built from a request's Host, since these links are passed on to others.
func (s *Server) siteURL(path string) string { return s.cfg.BaseURL + path }

func (s *Server) handleInvites(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.Invites(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]inviteJSON, 0, len(list))
	for i := range list {
		out = append(out, s.inviteOut(&list[i]))
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

type inviteRequest struct {
	MaxUses       *int `json:"max_uses"`
	ExpiresInDays *int `json:"expires_in_days"`
}

// Defaults of a new invite: one person, within a week; and the longest
// an invite may last.
const (
	defaultInviteUses = 1
	defaultInviteDays = 7
	maxInviteDays     = int(store.MaxInviteTTL / (24 * time.Hour))
)

func (s *Server) handleCreateInvite(w http.ResponseWriter, r *http.Request) {
	var req inviteRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	uses, days := defaultInviteUses, defaultInviteDays
	if req.MaxUses != nil {
		uses = *req.MaxUses
	}
	if req.ExpiresInDays != nil {
		days = *req.ExpiresInDays
	}
	inv, err := s.createInvite(r, uses, days)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.inviteOut(inv))
}

// createInvite makes an invite for the admin of r, for the API and the
// admin page alike. days 0 means it never expires.
func (s *Server) createInvite(r *http.Request, uses, days int) (*store.Invite, error) {
	if days < 0 || days > maxInviteDays {
		return nil, store.Invalid("expires_in_days", fmt.Sprintf("Ensure this value is between 0 and %d.", maxInviteDays))
	}
	admin := currentUser(r)
	inv, err := s.store.CreateInvite(r.Context(), admin.ID, uses, time.Duration(days)*24*time.Hour)
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("%d use(s)", uses)
	if days > 0 {
		detail += fmt.Sprintf(", %d day(s)", days)
	}
	return inv, s.store.Audit(r.Context(), admin, "invite.create", fmt.Sprintf("invite %d", inv.ID), detail)
}

func (s *Server) handleRevokeInvite(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.revokeInvite(r, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// revokeInvite ends an invite; one already revoked, or unknown, is 404.
func (s *Server) revokeInvite(r *http.Request, id int64) error {
	if _, err := s.store.RevokeInvite(r.Context(), id); err != nil {
		return err
	}
	return s.store.Audit(r.Context(), currentUser(r), "invite.revoke", fmt.Sprintf("invite %d", id), "")
}

type resetLinkJSON struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
}

// handleResetLink issues a one-time password reset link for a user, which
// the admin passes on by hand: maru sends no e-mail.
func (s *Server) handleResetLink(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	link, err := s.resetLink(r, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, link)
}

// resetLink makes a reset link for user id on behalf of the admin of r,
// for the API and the admin page alike.
func (s *Server) resetLink(r *http.Request, id int64) (*resetLinkJSON, error) {
	target, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if target.Deleted {
		return nil, errNotFound
	}
	admin := currentUser(r)
	secret, expires, err := s.store.CreatePasswordReset(r.Context(), id, admin.ID)
	if err != nil {
		return nil, err
	}
	if err := s.store.Audit(r.Context(), admin, "user.reset_link", fmt.Sprintf("user %d (%s)", target.ID, target.Email), ""); err != nil {
		return nil, err
	}
	return &resetLinkJSON{URL: s.siteURL("/reset/" + secret), ExpiresAt: drfTime(expires)}, nil
}

// adminUserJSON is an account as the admin API shows it.
type adminUserJSON struct {
	ID         int64  `json:"id"`
	Email      string `json:"email"`
	Nickname   string `json:"nickname"`
	IsAdmin    bool   `json:"is_admin"`
	IsDisabled bool   `json:"is_disabled"`
	CreatedAt  string `json:"created_at"`
}

func adminUserOut(u *store.User) adminUserJSON {
	return adminUserJSON{ID: u.ID, Email: u.Email, Nickname: u.Nickname, IsAdmin: u.IsAdmin, IsDisabled: u.Disabled, CreatedAt: drfTime(u.CreatedAt)}
}

// handleAdminUserList finds accounts by any part of the email, private
// ones too (?search=); without a search it lists the admins.
func (s *Server) handleAdminUserList(w http.ResponseWriter, r *http.Request) {
	users, err := s.store.AdminSearchUsers(r.Context(), r.URL.Query().Get("search"))
	var ve *store.ValidationError
	if errors.As(err, &ve) { // the store names the parameter keyword
		renamed := new(store.ValidationError)
		for _, m := range ve.Fields["keyword"] {
			renamed.Add("search", m)
		}
		err = renamed
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]adminUserJSON, len(users))
	for i, u := range users {
		out[i] = adminUserOut(u)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// Refusals of a change to an account's standing.
const (
	msgModerateSelf = "You cannot do this to your own account: ask another admin."
	msgLastAdmin    = "This is the last admin: make another user admin first."
)

func (s *Server) handleDisableUser(w http.ResponseWriter, r *http.Request) {
	s.handleSetDisabled(w, r, true)
}

func (s *Server) handleEnableUser(w http.ResponseWriter, r *http.Request) {
	s.handleSetDisabled(w, r, false)
}

func (s *Server) handleSetDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.setDisabled(r, id, disabled)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, adminUserOut(u))
}

// setDisabled disables or enables user id for the admin of r, for the API
// and the admin page alike. Disabling ends the user's chat sockets at
// once; their sessions and tokens stop working with the next request,
// since each request checks the account.
func (s *Server) setDisabled(r *http.Request, id int64, disabled bool) (*store.User, error) {
	target, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if target.Deleted {
		return nil, errNotFound
	}
	if !canModerate(currentUser(r), target) {
		return nil, store.Invalid("non_field_errors", msgModerateSelf)
	}
	u, err := s.store.SetDisabled(r.Context(), currentUser(r), id, disabled)
	if errors.Is(err, store.ErrLastAdmin) {
		return nil, store.Invalid("non_field_errors", msgLastAdmin)
	}
	if err != nil {
		return nil, err
	}
	if disabled {
		s.CloseUserSockets(id)
	}
	return u, nil
}

// handleAdminDeletePost deletes anyone's post; the post routes of the
// board let an admin do the same, and are recorded alike.
func (s *Server) handleAdminDeletePost(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.store.PostByID(r.Context(), id)
	if err == nil {
		err = s.deletePost(r, p)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deletePost deletes p for the user of r, who may (canChangePost): an
// admin's removal of someone else's post goes into the audit log.
func (s *Server) deletePost(r *http.Request, p *store.Post) error {
	u := currentUser(r)
	if !canChangePost(u, p) {
		return errForbidden
	}
	if p.Author.ID == u.ID {
		return s.store.DeletePost(r.Context(), p.ID)
	}
	return s.store.RemovePost(r.Context(), u, p.ID)
}

func (s *Server) handleAdminDeleteRoom(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.deleteRoom(r, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Frames that tell a room's sockets what an admin removed.
type (
	roomDeletedFrame struct {
		Type string `json:"type"` // chat.room.delete
		Room int64  `json:"room"`
	}
	messageDeletedFrame struct {
		Type string `json:"type"` // chat.message.delete
		ID   int64  `json:"id"`
		Room int64  `json:"room"`
	}
)

const (
	frameRoomDeleted    = "chat.room.delete"
	frameMessageDeleted = "chat.message.delete"
)

// deleteRoom deletes room id with its messages for the admin of r, for
// the API and the admin page alike. The room's sockets are told
// (chat.room.delete) and then closed with 4404.
func (s *Server) deleteRoom(r *http.Request, id int64) (*store.Room, error) {
	room, _, err := s.store.DeleteRoom(r.Context(), currentUser(r), id)
	if err != nil {
		return nil, err
	}
	frame, err := json.Marshal(roomDeletedFrame{Type: frameRoomDeleted, Room: id})
	if err != nil {
		return nil, err
	}
	s.publish.Publish(id, frame)
	s.hub.CloseRoom(id)
	return room, nil
}

func (s *Server) handleAdminDeleteMessage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.deleteMessage(r, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteMessage deletes chat message id for the admin of r, for the API
// and the room page alike, and tells the room's sockets, whose pages take
// it away (chat.message.delete).
func (s *Server) deleteMessage(r *http.Request, id int64) (*store.Message, error) {
	m, err := s.store.DeleteMessage(r.Context(), currentUser(r), id)
	if err != nil {
		return nil, err
	}
	frame, err := json.Marshal(messageDeletedFrame{Type: frameMessageDeleted, ID: m.ID, Room: m.RoomID})
	if err != nil {
		return nil, err
	}
	s.publish.Publish(m.RoomID, frame)
	return m, nil
}

// auditJSON is one entry of the audit log.
type auditJSON struct {
	ID      int64  `json:"id"`
	At      string `json:"at"`
	ActorID *int64 `json:"actor_id"`
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Target  string `json:"target"`
	Detail  string `json:"detail"`
}

// defaultAuditPage is how many entries of the audit log a page shows.
const defaultAuditPage = 50

// handleAuditLog serves the audit log, newest first: ?limit=n (default 50,
// at most 200) entries older than ?before=<id>.
func (s *Server) handleAuditLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := new(store.ValidationError)
	before := positiveParam(v, q, "before", 0)
	limit := positiveParam(v, q, "limit", defaultAuditPage)
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, err := s.store.AuditLog(r.Context(), int64(before), min(limit, store.MaxAuditList))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]auditJSON, len(entries))
	for i, e := range entries {
		out[i] = auditJSON{ID: e.ID, At: drfTime(e.At), Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail}
		if e.ActorID != 0 {
			out[i].ActorID = &entries[i].ActorID
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}
