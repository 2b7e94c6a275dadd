package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"maru/store"
)

// BenchmarkProfileGet is an authenticated GET of my profile through the
// whole handler chain (logging, headers, token check, one indexed read,
// JSON), without a network in between.
func BenchmarkProfileGet(b *testing.B) {
	e := startEnv(b, envOptions{quiet: true})
	st, srv := e.store, e.server
	u, err := st.CreateUser(context.Background(), store.NewUser{Email: "bench@example.com", Password: "long enough pw"})
	if err != nil {
		b.Fatal(err)
	}
	access, _, err := srv.tokens.issue(tokenAccess, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/mysite/user/v1/profile/", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	get := func(b *testing.B) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	// warm: the client's token was checked before, as on every request but
	// its first. cold: each request's token is checked from scratch.
	b.Run("warm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b)
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			srv.tokens.mu.Lock()
			clear(srv.tokens.verified)
			srv.tokens.mu.Unlock()
			get(b)
		}
	})
}
