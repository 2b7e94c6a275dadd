package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"maru/store"
)

const (
	tokenAccess  = "access"
	tokenRefresh = "refresh"
)

// tokenClaims are the claims of both kinds of token, named as the seed's
// clients (djangorestframework-simplejwt) expect them.
type tokenClaims struct {
	TokenType string `json:"token_type"`
	UserID    int64  `json:"user_id"`
	jwt.RegisteredClaims
}

// tokenAuthority issues and checks HS256 tokens with the secret kept in the
// database.
type tokenAuthority struct {
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	// refreshMaxAge bounds a chain of refresh tokens from the login that
	// started it, however often it is rotated; 0 means no bound.
	refreshMaxAge time.Duration
	now           func() time.Time

	// verified remembers access tokens whose signature and claims have been
	// checked, keyed by the whole token (signature included), until they
	// expire. A client sends the same access token with every request for
	// its lifetime; checking it once instead of each time halves the cost
	// of an authenticated request.
	mu       sync.RWMutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	userID  int64
	expires time.Time
}

// maxVerified bounds the cache of verified tokens: about one per active
// client, so a few thousand is plenty for the communities maru serves.
const maxVerified = 4096

func newJTI() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// issue signs a token of kind for userID and returns it with its claims.
// A refresh token issued at a login expires after refreshTTL.
func (ta *tokenAuthority) issue(kind string, userID int64) (string, *tokenClaims, error) {
	return ta.issueSince(kind, userID, ta.now())
}

// issueSince is issue for a token whose chain started with a login at
// loginAt: a refresh token then expires after refreshTTL, but never later
// than refreshMaxAge after loginAt.
func (ta *tokenAuthority) issueSince(kind string, userID int64, loginAt time.Time) (string, *tokenClaims, error) {
	now := ta.now()
	exp := now.Add(ta.accessTTL)
	if kind == tokenRefresh {
		exp = now.Add(ta.refreshTTL)
		if ta.refreshMaxAge > 0 {
			exp = minTime(exp, loginAt.Add(ta.refreshMaxAge))
		}
	}
	c := &tokenClaims{
		TokenType: kind,
		UserID:    userID,
		RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        newJTI(),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(ta.secret)
	return s, c, err
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Token errors, in the words simplejwt uses.
var (
	errTokenInvalid = &apiError{
		status: http.StatusUnauthorized,
		body: map[string]any{
			"detail": "Given token not valid for any token type",
			"code":   "token_not_valid",
		},
	}
	errRefreshInvalid = &apiError{
		status: http.StatusUnauthorized,
		body:   map[string]any{"detail": "Token is invalid or expired", "code": "token_not_valid"},
	}
	errRefreshRevoked = &apiError{
		status: http.StatusUnauthorized,
		body:   map[string]any{"detail": "Token is blacklisted", "code": "token_not_valid"},
	}
	errUserGone = &apiError{
		status: http.StatusUnauthorized,
		body:   map[string]any{"detail": "User not found", "code": "user_not_found"},
	}
)

// parse checks signature, algorithm, expiry and kind of a token.
func (ta *tokenAuthority) parse(raw, kind string) (*tokenClaims, bool) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return ta.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(ta.now),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil || c.TokenType != kind || c.UserID <= 0 || c.ID == "" {
		return nil, false
	}
	return &c, true
}

// accessUserID checks an access token and returns the user id it carries.
func (ta *tokenAuthority) accessUserID(raw string) (int64, bool) {
	ta.mu.RLock()
	v, ok := ta.verified[raw]
	ta.mu.RUnlock()
	if ok && ta.now().Before(v.expires) {
		return v.userID, true
	}
	c, ok := ta.parse(raw, tokenAccess)
	if !ok {
		return 0, false
	}
	ta.mu.Lock()
	if len(ta.verified) >= maxVerified {
		now := ta.now()
		for k, v := range ta.verified {
			if !now.Before(v.expires) {
				delete(ta.verified, k)
			}
		}
		if len(ta.verified) >= maxVerified {
			clear(ta.verified) // all live: start over rather than grow
		}
	}
	if ta.verified == nil {
		ta.verified = make(map[string]verifiedToken)
	}
	ta.verified[raw] = verifiedToken{userID: c.UserID, expires: c.ExpiresAt.Time}
	ta.mu.Unlock()
	return c.UserID, true
}

// userFromAccessToken returns the user an access token stands for.
func (s *Server) userFromAccessToken(ctx context.Context, raw string) (*store.User, error) {
	id, ok := s.tokens.accessUserID(raw)
	if !ok {
		return nil, errTokenInvalid
	}
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUserGone
	}
	return u, err
}

// tokenPair issues an access and a refresh token for u and records the
// refresh token, so that it can be revoked.
func (s *Server) tokenPair(ctx context.Context, u *store.User) (access, refresh string, err error) {
	access, _, err = s.tokens.issue(tokenAccess, u.ID)
	if err != nil {
		return "", "", err
	}
	refresh, rc, err := s.tokens.issue(tokenRefresh, u.ID)
	if err != nil {
		return "", "", err
	}
	if err := s.store.AddRefreshToken(ctx, rc.ID, u.ID, rc.ExpiresAt.Time); err != nil {
		return "", "", err
	}
	return access, refresh, nil
}
