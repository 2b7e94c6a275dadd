package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"maru/store"
)

type registrationRequest struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Nickname *string `json:"nickname"`
	Invite   *string `json:"invite"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Signup == SignupClosed {
		s.writeError(w, r, errSignupClosed)
		return
	}
	var req registrationRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	v := new(store.ValidationError)
	required(v, map[string]*string{"email": req.Email, "password": req.Password})
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	nu := store.NewUser{Email: *req.Email, Password: *req.Password}
	if req.Nickname != nil {
		nu.Nickname = *req.Nickname
	}
	if req.Invite != nil {
		nu.Invite = *req.Invite
	}
	u, err := s.createUser(r, nu)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, map[string]any{
		"email":   u.Email,
		"message": "회원가입이 완료되었습니다.",
		"profile": s.profile(r, u),
	})
}

type loginRequest struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

var (
	errBadCredentials  = store.Invalid("non_field_errors", "Unable to log in with provided credentials.")
	errAccountDisabled = store.Invalid("non_field_errors", "This account has been disabled.")
)

// checkLogin checks an email and password under the login throttle, for
// the API and the login page alike. Wrong ones are errBadCredentials; too
// many of them a 429. On success the request's user is the one found.
func (s *Server) checkLogin(r *http.Request, email, password string) (*store.User, error) {
	// No account has a longer address: refuse it before it costs a
	// throttle entry or a password hash.
	if utf8.RuneCountInString(email) > store.MaxEmailLen {
		return nil, store.Invalid("email", fmt.Sprintf("Ensure this field has no more than %d characters.", store.MaxEmailLen))
	}
	account, addr := strings.ToLower(store.NormalizeEmail(email)), clientAddr(r)
	// The attempt is counted before the password is checked, so that
	// parallel guesses cannot all pass the throttle before one fails.
	if err := s.logins.begin(account, addr); err != nil {
		return nil, err
	}
	u, err := s.store.Authenticate(r.Context(), email, password)
	if errors.Is(err, store.ErrAccountDisabled) {
		return nil, errAccountDisabled
	}
	if errors.Is(err, store.ErrInvalidCredentials) {
		return nil, errBadCredentials
	}
	if err != nil {
		s.logins.abandon(account, addr)
		return nil, err
	}
	s.logins.succeeded(account, addr)
	info(r).user = u
	return u, nil
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	v := new(store.ValidationError)
	required(v, map[string]*string{"email": req.Email, "password": req.Password})
	if req.Email != nil && strings.TrimSpace(*req.Email) == "" {
		v.Add("email", msgBlank)
	}
	if req.Password != nil && *req.Password == "" {
		v.Add("password", msgBlank)
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.checkLogin(r, *req.Email, *req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	access, refresh, err := s.tokenPair(r.Context(), u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"message": "환영합니다.",
		"profile": s.profile(r, u),
		"refresh": refresh,
		"access":  access,
	})
}

type refreshRequest struct {
	Refresh *string `json:"refresh"`
}

func (s *Server) handleTokenRefresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Refresh == nil || *req.Refresh == "" {
		s.writeError(w, r, store.Invalid("refresh", msgRequired))
		return
	}
	c, ok := s.tokens.parse(*req.Refresh, tokenRefresh)
	if !ok {
		s.writeError(w, r, errRefreshInvalid)
		return
	}
	u, err := s.store.UserByID(r.Context(), c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		s.writeError(w, r, errUserGone)
		return
	}
	if err == nil && (u.Disabled || u.Deleted) {
		s.writeError(w, r, errUserInactive)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	info(r).user = u
	access, err := s.tokens.issueAccess(u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var refresh string
	err = s.store.RotateRefreshToken(r.Context(), c.ID, u.ID, func(loginAt time.Time) (string, time.Time, error) {
		// The successor keeps the login time of the chain: rotating never
		// extends a login past its absolute age.
		if s.tokens.refreshMaxAge > 0 && !s.tokens.now().Before(loginAt.Add(s.tokens.refreshMaxAge)) {
			return "", time.Time{}, errRefreshInvalid
		}
		tok, rc, err := s.tokens.issueSince(tokenRefresh, u.ID, loginAt)
		if err != nil {
			return "", time.Time{}, err
		}
		refresh = tok
		return rc.ID, rc.ExpiresAt.Time, nil
	})
	if errors.Is(err, store.ErrTokenRevoked) || errors.Is(err, store.ErrTokenReused) {
		s.writeError(w, r, errRefreshRevoked)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"access": access, "refresh": refresh})
}

// handleLogout revokes the refresh token given, if any, and ends the browser
// session the request came with, if any. Revoking a token that is already
// revoked is not an error: the caller is logged out either way.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u := currentUser(r)
	if req.Refresh != nil && *req.Refresh != "" {
		c, ok := s.tokens.parse(*req.Refresh, tokenRefresh)
		if !ok || c.UserID != u.ID {
			s.writeError(w, r, errRefreshInvalid)
			return
		}
		if err := s.store.RevokeRefreshToken(r.Context(), c.ID, u.ID); err != nil && !errors.Is(err, store.ErrTokenRevoked) {
			s.writeError(w, r, err)
			return
		}
	}
	if r.Header.Get("Authorization") == "" && s.sessionUserID(r.Context()) != 0 {
		if err := s.endSession(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"message": "로그아웃이 완료되었습니다."})
}
