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
	// AuthEpoch is the user's auth epoch when an access token was issued: a
	// password change moves it on, and every access token issued before
	// stops working at once instead of within its lifetime.
	AuthEpoch int64 `json:"auth_epoch,omitempty"`
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
	epoch   int64
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

// issueAccess signs an access token for u, valid while u's auth epoch is
// the one it has now.
func (ta *tokenAuthority) issueAccess(u *store.User) (string, error) {
	return ta.sign(ta.claims(tokenAccess, u.ID, ta.now(), u.AuthEpoch))
}

// issueSince is issue for a token whose chain started with a login at
// loginAt: a refresh token then expires after refreshTTL, but never later
// than refreshMaxAge after loginAt.
func (ta *tokenAuthority) issueSince(kind string, userID int64, loginAt time.Time) (string, *tokenClaims, error) {
	c := ta.claims(kind, userID, loginAt, 0)
	s, err := ta.sign(c)
	return s, c, err
}

func (ta *tokenAuthority) sign(c *tokenClaims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(ta.secret)
}

func (ta *tokenAuthority) claims(kind string, userID int64, loginAt time.Time, epoch int64) *tokenClaims {
	now := ta.now()
	exp := now.Add(ta.accessTTL)
	if kind == tokenRefresh {
		exp = now.Add(ta.refreshTTL)
		if ta.refreshMaxAge > 0 {
			exp = minTime(exp, loginAt.Add(ta.refreshMaxAge))
		}
	}
	return &tokenClaims{
		TokenType: kind,
		UserID:    userID,
		AuthEpoch: epoch,
		RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        newJTI(),
		},
	}
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
	errUserInactive = &apiError{
		status: http.StatusUnauthorized,
		body:   map[string]any{"detail": "User is inactive", "code": "user_inactive"},
	}
	errUserGone = &apiError{
		status: http.StatusUnauthorized,
		body:   map[string]any{"detail": "User not found", "code": "user_not_found"},
	}
)

// parse checks signature, algorithm, expiry and kind of a token. Its
// base64 must be canonical: a lenient decoder would take a few spellings
// of each signature (the unused bits of its last character), and only the
// one we wrote is ours.
func (ta *tokenAuthority) parse(raw, kind string) (*tokenClaims, bool) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return ta.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithStrictDecoding(),
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

// accessUserID checks an access token and returns the user id and auth
// epoch it carries.
func (ta *tokenAuthority) accessUserID(raw string) (int64, int64, bool) {
	ta.mu.RLock()
	v, ok := ta.verified[raw]
	ta.mu.RUnlock()
	if ok && ta.now().Before(v.expires) {
		return v.userID, v.epoch, true
	}
	c, ok := ta.parse(raw, tokenAccess)
	if !ok {
		return 0, 0, false
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
	ta.verified[raw] = verifiedToken{userID: c.UserID, epoch: c.AuthEpoch, expires: c.ExpiresAt.Time}
	ta.mu.Unlock()
	return c.UserID, c.AuthEpoch, true
}

// userFromAccessToken returns the user an access token stands for.
func (s *Server) userFromAccessToken(ctx context.Context, raw string) (*store.User, error) {
	id, epoch, ok := s.tokens.accessUserID(raw)
	if !ok {
		return nil, errTokenInvalid
	}
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUserGone
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled || u.Deleted {
		return nil, errUserInactive
	}
	if epoch != u.AuthEpoch {
		return nil, errTokenInvalid // issued before the password changed
	}
	return u, nil
}

// tokenPair issues an access and a refresh token for u and records the
// refresh token, so that it can be revoked.
func (s *Server) tokenPair(ctx context.Context, u *store.User) (access, refresh string, err error) {
	access, err = s.tokens.issueAccess(u)
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
