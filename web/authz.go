package web

import (
	"context"
	"net/http"

	"maru/store"
)

// Who may do what. Each rule lives here once; the API and the pages both
// ask these, so a page can never allow what the API refuses.

// isAdmin reports whether u is a logged-in admin.
func isAdmin(u *store.User) bool { return u != nil && u.IsAdmin }

// canChangePost reports whether u may edit or delete p: its author or an
// admin.
func canChangePost(u *store.User, p *store.Post) bool {
	return u != nil && (p.Author.ID == u.ID || u.IsAdmin)
}

// canSeeProfile reports whether viewer may see owner's whole profile: a
// private one shows itself only to its owner and to those the owner has
// added. Admins get no exception. Every route that shows profile data asks
// this first.
func (s *Server) canSeeProfile(ctx context.Context, viewer, owner *store.User) (bool, error) {
	if !owner.IsPrivate || viewer.ID == owner.ID {
		return true, nil
	}
	return s.store.HasAdded(ctx, owner.ID, viewer.ID)
}

// requireAdmin lets only authenticated admins through to next.
func (s *Server) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return s.requireUser(func(w http.ResponseWriter, r *http.Request) {
		if !isAdmin(currentUser(r)) {
			s.writeError(w, r, errForbidden)
			return
		}
		next(w, r)
	})
}

// canModerate reports whether actor may change target's standing: grant
// or withdraw the admin role, disable or enable the account. Admins may,
// but never for themselves, so that nobody locks themselves out with a
// slip of the finger. (The store keeps the last admin on top of this.)
func canModerate(actor, target *store.User) bool {
	return isAdmin(actor) && actor.ID != target.ID
}
