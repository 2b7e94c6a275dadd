package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestRegisterLoginProfile(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("mina@example.com")
	e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantStatus(http.StatusOK).
		wantBody(`"email":"mina@example.com"`, `"nickname":"mina"`, `"profile_picture":null`,
			`"id":`, `"user":`, `"contact_number":""`, `"status":""`, `"is_private":false`)
}

func TestRegistration(t *testing.T) {
	e := newTestEnv(t)
	e.do("POST", "/user/registration/", "", map[string]string{"email": "taken@example.com", "password": "long enough pw"}).
		wantStatus(http.StatusCreated).
		wantBody(`"email":"taken@example.com"`, `"message":"회원가입이 완료되었습니다."`, `"profile":{`, `"nickname":"taken"`)

	tests := []struct {
		name   string
		body   any
		status int
		want   []string
	}{
		{"with nickname", map[string]string{"email": "nick@example.com", "password": "long enough pw", "nickname": "  Nicky "},
			201, []string{`"nickname":"Nicky"`}},
		{"duplicate email, other case", map[string]string{"email": "Taken@EXAMPLE.com", "password": "long enough pw"},
			400, []string{`{"email":["A user is already registered with this e-mail address."]}`}},
		{"missing fields", map[string]string{}, 400,
			[]string{`"email":["This field is required."]`, `"password":["This field is required."]`}},
		{"invalid email", map[string]string{"email": "nope", "password": "long enough pw"},
			400, []string{`"email":["Enter a valid email address."]`}},
		{"short password", map[string]string{"email": "s@example.com", "password": "abc"},
			400, []string{`"password":["This password is too short. It must contain at least 8 characters."]`}},
		{"numeric password", map[string]string{"email": "n@example.com", "password": "12345678"},
			400, []string{`This password is entirely numeric.`}},
		{"password equals email", map[string]string{"email": "same@example.com", "password": "same@example.com"},
			400, []string{`The password is too similar to the email.`}},
		{"wrong type", `{"email": 42, "password": "long enough pw"}`, 400, []string{`"email":["Not a valid string."]`}},
		{"not an object", `["a"]`, 400, []string{`"non_field_errors":["Invalid data. Expected a dictionary, but got list."]`}},
		{"malformed json", `{"email": `, 400, []string{`"detail":"JSON parse error`}},
		{"trailing garbage", `{"email": "x@example.com"} {}`, 400, []string{`"detail":"JSON parse error`}},
		{"nickname too long", map[string]string{"email": "l@example.com", "password": "long enough pw", "nickname": strings.Repeat("가", 51)},
			400, []string{`"nickname":["Ensure this field has no more than 50 characters."]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "/user/registration", "", tt.body).wantStatus(tt.status).wantBody(tt.want...)
		})
	}
}

func TestLogin(t *testing.T) {
	e := newTestEnv(t)
	e.register("kim@example.com")
	res := e.do("POST", "/user/login", "", map[string]string{"email": "KIM@example.com", "password": "correct horse battery"}).
		wantStatus(http.StatusOK).wantBody(`"message":"환영합니다."`, `"profile":{`, `"access":"`, `"refresh":"`)
	if c := res.Header.Get("Set-Cookie"); c != "" {
		t.Fatalf("API login set a cookie %q: it must start no browser session", c)
	}
	e.do("POST", "/user/login/", "", map[string]string{"email": "kim@example.com", "password": "wrong password"}).
		wantStatus(http.StatusBadRequest).wantBody(`{"non_field_errors":["Unable to log in with provided credentials."]}`)
	e.do("POST", "/user/login/", "", map[string]string{"email": "ghost@example.com", "password": "whatever123"}).
		wantStatus(http.StatusBadRequest).wantBody(`Unable to log in with provided credentials.`)
	e.do("POST", "/user/login/", "", map[string]string{"email": "kim@example.com"}).
		wantStatus(http.StatusBadRequest).wantBody(`"password":["This field is required."]`)
}

func TestTokenClaims(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("claims@example.com")
	for _, tc := range []struct {
		token, kind string
		ttl         time.Duration
	}{{u.Access, "access", 15 * time.Minute}, {u.Refresh, "refresh", 14 * 24 * time.Hour}} {
		parts := strings.Split(tc.token, ".")
		if len(parts) != 3 {
			t.Fatalf("%s token %q is not a JWT", tc.kind, tc.token)
		}
		hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
		if !strings.Contains(string(hdr), `"alg":"HS256"`) {
			t.Errorf("%s header %s, want HS256", tc.kind, hdr)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		if err := json.Unmarshal(payload, &c); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"exp", "iat", "jti", "token_type", "user_id"} {
			if _, ok := c[k]; !ok {
				t.Errorf("%s token lacks claim %q: %v", tc.kind, k, c)
			}
		}
		if c["token_type"] != tc.kind || c["user_id"] != float64(u.ID) {
			t.Errorf("%s claims %v", tc.kind, c)
		}
		if life := time.Duration(c["exp"].(float64)-c["iat"].(float64)) * time.Second; life != tc.ttl {
			t.Errorf("%s lifetime %v, want %v", tc.kind, life, tc.ttl)
		}
	}
}

// forge signs claims with key, as an attacker (or a test) would.
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBadAccessTokens(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("victim@example.com")
	secret := e.server.tokens.secret
	now := time.Now()
	valid := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"token_type": "access", "user_id": u.ID, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "x1"}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	// A well-signed token with the right claims works: the cases below fail
	// for the one thing each changes.
	e.do("GET", "/mysite/user/v1/profile/", forge(t, jwt.SigningMethodHS256, secret, valid(nil)), nil).wantStatus(http.StatusOK)

	parts := strings.Split(u.Access, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"token_type":"access","user_id":999,"exp":9999999999,"iat":1,"jti":"z"}`)) + "." + parts[2]
	tests := []struct{ name, token string }{
		{"garbage", "not.a.jwt"},
		{"wrong secret", forge(t, jwt.SigningMethodHS256, []byte("guessed secret"), valid(nil))},
		{"alg none", forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(nil))},
		{"HS512", forge(t, jwt.SigningMethodHS512, secret, valid(nil))},
		{"expired", forge(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": now.Add(-time.Minute).Unix()}))},
		{"no exp", forge(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"token_type": "access", "user_id": u.ID, "iat": now.Unix(), "jti": "y"})},
		{"issued in the future", forge(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"iat": now.Add(time.Hour).Unix()}))},
		{"refresh used as access", u.Refresh},
		{"tampered payload", tampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("GET", "/mysite/user/v1/profile/", tt.token, nil).wantStatus(http.StatusUnauthorized).
				wantBody(`"detail":"Given token not valid for any token type"`, `"code":"token_not_valid"`)
		})
	}
	t.Run("unknown user", func(t *testing.T) {
		e.do("GET", "/mysite/user/v1/profile/", forge(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"user_id": 4242})), nil).
			wantStatus(http.StatusUnauthorized).wantBody(`"code":"user_not_found"`)
	})
	t.Run("no credentials", func(t *testing.T) {
		e.do("GET", "/mysite/user/v1/profile/", "", nil).wantStatus(http.StatusUnauthorized).
			wantBody(`{"detail":"Authentication credentials were not provided."}`)
	})
}

func TestRefreshRotationAndRevocation(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("rot@example.com")

	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": u.Access}).
		wantStatus(http.StatusUnauthorized).wantBody(`"code":"token_not_valid"`)
	e.do("POST", "/user/token/refresh/", "", map[string]string{}).
		wantStatus(http.StatusBadRequest).wantBody(`{"refresh":["This field is required."]}`)

	var pair struct{ Access, Refresh string }
	e.do("POST", "/user/token/refresh", "", map[string]string{"refresh": u.Refresh}).wantStatus(http.StatusOK).decode(&pair)
	if pair.Access == "" || pair.Refresh == "" || pair.Refresh == u.Refresh {
		t.Fatalf("refresh gave %+v, want a new pair", pair)
	}
	e.do("GET", "/mysite/user/v1/profile/", pair.Access, nil).wantStatus(http.StatusOK)
	// The old refresh token was rotated away.
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": u.Refresh}).
		wantStatus(http.StatusUnauthorized).wantBody(`"code":"token_not_valid"`)

	// Logout revokes the refresh token given.
	e.do("POST", "/user/logout/", pair.Access, map[string]string{"refresh": pair.Refresh}).
		wantStatus(http.StatusOK).wantBody(`{"message":"로그아웃이 완료되었습니다."}`)
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": pair.Refresh}).wantStatus(http.StatusUnauthorized)

	// Logout needs a login, and cannot revoke somebody else's token.
	e.do("POST", "/user/logout/", "", nil).wantStatus(http.StatusUnauthorized)
	other := e.register("other@example.com")
	e.do("POST", "/user/logout/", u.Access, map[string]string{"refresh": other.Refresh}).wantStatus(http.StatusUnauthorized)
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": other.Refresh}).wantStatus(http.StatusOK)
}

// A rotated-away refresh token presented again (a copy in a thief's hands,
// or the user's own after the thief rotated first) ends every login of its
// user: neither party's refresh token works any more.
func TestRefreshTokenReuseRevokesEveryLogin(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("theft@example.com")
	var phone struct{ Refresh string }
	e.do("POST", "/user/login/", "", map[string]string{"email": u.Email, "password": "correct horse battery"}).
		wantStatus(http.StatusOK).decode(&phone)
	other := e.register("bystander@example.com")

	var rotated struct{ Refresh string }
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": u.Refresh}).wantStatus(http.StatusOK).decode(&rotated)
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": u.Refresh}).
		wantStatus(http.StatusUnauthorized).wantBody(`"code":"token_not_valid"`)
	// The chain's newest token and the phone's login are both revoked.
	for _, tok := range []string{rotated.Refresh, phone.Refresh} {
		e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": tok}).wantStatus(http.StatusUnauthorized)
	}
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": other.Refresh}).wantStatus(http.StatusOK)
}

// Refresh tokens slide, but a login ends at its absolute age however often
// its tokens were rotated.
func TestRefreshTokenAbsoluteLifetime(t *testing.T) {
	t.Run("past the age", func(t *testing.T) {
		e := newTestEnvWith(t, Config{RefreshMaxAge: time.Nanosecond})
		u := e.register("old@example.com")
		e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": u.Refresh}).
			wantStatus(http.StatusUnauthorized).wantBody(`"code":"token_not_valid"`)
	})
	t.Run("within the age", func(t *testing.T) {
		e := newTestEnvWith(t, Config{RefreshMaxAge: time.Hour})
		u := e.register("new@example.com")
		login, _ := e.server.tokens.parse(u.Refresh, tokenRefresh)
		if got, want := login.ExpiresAt.Time, login.IssuedAt.Add(time.Hour); got.After(want) {
			t.Fatalf("login's refresh token expires %v, after the absolute age %v", got, want)
		}
		tok := u.Refresh
		for range 3 {
			var pair struct{ Refresh string }
			e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": tok}).wantStatus(http.StatusOK).decode(&pair)
			tok = pair.Refresh
			c, ok := e.server.tokens.parse(tok, tokenRefresh)
			if !ok {
				t.Fatal("rotated token does not parse")
			}
			if c.ExpiresAt.After(login.IssuedAt.Add(time.Hour)) {
				t.Fatalf("rotated token expires %v, after the login's absolute age", c.ExpiresAt)
			}
		}
	})
}

func TestLoginThrottled(t *testing.T) {
	e := newTestEnvWith(t, Config{LoginFailures: 3, LoginWindow: time.Minute})
	e.register("slow@example.com")
	bad := map[string]string{"email": "slow@example.com", "password": "wrong password"}
	for range 3 {
		e.do("POST", "/user/login/", "", bad).wantStatus(http.StatusBadRequest)
	}
	res := e.do("POST", "/user/login/", "", bad).wantStatus(http.StatusTooManyRequests).wantBody(`"detail":"Request was throttled.`)
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After = %q, want seconds to wait", ra)
	}
	// Even the right password waits now: the account is what is protected.
	e.do("POST", "/user/login/", "", map[string]string{"email": "SLOW@example.com", "password": "correct horse battery"}).
		wantStatus(http.StatusTooManyRequests)
	// Another account from the same address still may log in...
	e.register("fine@example.com")
	// ...until the address itself has failed too often (5× the account limit).
	for i := range 15 {
		e.do("POST", "/user/login/", "", map[string]string{"email": "spray" + string(rune('a'+i)) + "@example.com", "password": "guess guess"})
	}
	e.do("POST", "/user/login/", "", map[string]string{"email": "fine@example.com", "password": "correct horse battery"}).
		wantStatus(http.StatusTooManyRequests)
}

func TestThrottleWindowExpires(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newFailureLimiter(2, time.Minute, func() time.Time { return now })
	l.take("k")
	l.take("k")
	if d := l.take("k"); d != time.Minute {
		t.Fatalf("blocked = %v, want a minute", d)
	}
	now = now.Add(61 * time.Second)
	if d := l.take("k"); d != 0 {
		t.Fatalf("still blocked %v after the window", d)
	}
	l.reset("k")
	if len(l.keys) != 0 {
		t.Fatal("reset kept the key")
	}
}

// Revocation lives in the database: a server restarted on the same file
// still refuses a revoked token, and still accepts tokens it issued before.
func TestRevocationSurvivesRestart(t *testing.T) {
	path := t.TempDir() + "/app.db"
	e1 := newTestEnvAt(t, path)
	u := e1.register("r@example.com")
	e1.do("POST", "/user/logout/", u.Access, map[string]string{"refresh": u.Refresh}).wantStatus(http.StatusOK)
	var pair struct{ Refresh string }
	e1.do("POST", "/user/login/", "", map[string]string{"email": u.Email, "password": "correct horse battery"}).decode(&pair)
	e1.close()

	e2 := newTestEnvAt(t, path)
	e2.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": u.Refresh}).wantStatus(http.StatusUnauthorized)
	e2.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantStatus(http.StatusOK)
	e2.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": pair.Refresh}).wantStatus(http.StatusOK)
	if err := e2.store.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A verified token is remembered, but never past its expiry.
func TestVerifiedTokenCacheHonoursExpiry(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ta := &tokenAuthority{secret: []byte("k"), accessTTL: time.Minute, refreshTTL: time.Hour, now: func() time.Time { return now }}
	tok, _, err := ta.issue(tokenAccess, 7)
	if err != nil {
		t.Fatal(err)
	}
	if id, _, ok := ta.accessUserID(tok); !ok || id != 7 {
		t.Fatalf("fresh token: %d, %v", id, ok)
	}
	if _, ok := ta.verified[tok]; !ok {
		t.Fatal("verified token not remembered")
	}
	now = now.Add(2 * time.Minute)
	if _, _, ok := ta.accessUserID(tok); ok {
		t.Fatal("an expired token was accepted from the cache")
	}
	refresh, _, _ := ta.issue(tokenRefresh, 7)
	if _, _, ok := ta.accessUserID(refresh); ok {
		t.Fatal("a refresh token was accepted as an access token")
	}
}
