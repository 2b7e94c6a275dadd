package web

import (
	"context"
	"fmt"
	"net/http"

	"maru/store"
)

// Sign-up modes (Config.Signup, -signup).
const (
	SignupOpen   = "open"   // anyone may register
	SignupInvite = "invite" // registering needs an invite code from an admin
	SignupClosed = "closed" // nobody may register; admins add no one either
)

// checkSignupMode refuses a mode that is none of the three.
func checkSignupMode(mode string) error {
	switch mode {
	case SignupOpen, SignupInvite, SignupClosed:
		return nil
	}
	return fmt.Errorf("sign-up mode %q: want open, invite or closed", mode)
}

var errSignupClosed = &apiError{
	status: http.StatusForbidden,
	body:   detail("Registration is closed."),
	msgKey: "register.closed",
}

// signUp creates an account under the sign-up mode, for the API and the
// registration page alike. With invites, the code is required and one use
// of it is spent with the account (none when the sign-up fails).
func (s *Server) signUp(ctx context.Context, nu store.NewUser) (*store.User, error) {
	switch s.cfg.Signup {
	case SignupClosed:
		return nil, errSignupClosed
	case SignupInvite:
		nu.RequireInvite = true
	}
	return s.store.CreateUser(ctx, nu)
}
