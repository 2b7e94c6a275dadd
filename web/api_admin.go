package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"maru/store"
)

// The admin API, under /api/admin/: invites and password reset links.
// Every route needs an admin; every change is written to the audit log.

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

// Defaults of a new invite: one person, within a week.
const (
	defaultInviteUses = 1
	defaultInviteDays = 7
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
	if days < 0 || days > int(store.MaxInviteTTL/(24*time.Hour)) {
		return nil, store.Invalid("expires_in_days", fmt.Sprintf("Ensure this value is between 0 and %d.", int(store.MaxInviteTTL/(24*time.Hour))))
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
