package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
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
	now        func() time.Time
}

func newJTI() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// issue signs a token of kind for userID and returns it with its claims.
func (ta *tokenAuthority) issue(kind string, userID int64) (string, *tokenClaims, error) {
	ttl := ta.accessTTL
	if kind == tokenRefresh {
		ttl = ta.refreshTTL
	}
	now := ta.now()
	c := &tokenClaims{
		TokenType: kind,
		UserID:    userID,
		RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        newJTI(),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(ta.secret)
	return s, c, err
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

// userFromAccessToken returns the user an access token stands for.
func (s *Server) userFromAccessToken(ctx context.Context, raw string) (*store.User, error) {
	c, ok := s.tokens.parse(raw, tokenAccess)
	if !ok {
		return nil, errTokenInvalid
	}
	u, err := s.store.UserByID(ctx, c.UserID)
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
