package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"maru/store"
)

// BenchmarkSearchFriendsHTTP measures GET /user/search-friends/ end to end
// (token check, query, JSON) over 100,000 users, one in ten private.
func BenchmarkSearchFriendsHTTP(b *testing.B) {
	ctx := context.Background()
	e := startEnv(b, envOptions{quiet: true})
	st, path := e.store, e.path
	// The users go straight into the file: registering 100,000 through the
	// API would spend minutes hashing passwords nobody uses.
	seed, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	// In batches, as sign-ups come, so that the search index has the shape
	// it has in use rather than that of one bulk load.
	for lo := 1; lo <= 100_000 && err == nil; lo += 100 {
		_, err = seed.Exec(`
			WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?),
			names(k, name) AS (VALUES (0, 'kim'), (1, 'lee'), (2, 'park'), (3, 'choi'), (4, 'jung'),
				(5, 'kang'), (6, 'cho'), (7, 'yoon'), (8, 'jang'), (9, 'lim')),
			domains(k, domain) AS (VALUES (0, 'example.com'), (1, 'mail.example.org'),
				(2, 'club.example.net'), (3, 'school.example.kr'))
			INSERT INTO users (email, password_hash, nickname, is_private, created_at)
			SELECT a.name || '.' || b.name || i || '@' || d.domain, 'x', a.name || i, i % 10 = 0, 0
			FROM n JOIN names a ON a.k = i % 10 JOIN names b ON b.k = (i / 7) % 10 JOIN domains d ON d.k = i % 4`,
			lo, lo+99)
	}
	seed.Close()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Email: "me@example.com", Password: "correct horse battery"}); err != nil {
		b.Fatal(err)
	}
	hs := e.http
	res, err := http.Post(hs.URL+"/user/login/", "application/json",
		strings.NewReader(`{"email":"me@example.com","password":"correct horse battery"}`))
	if err != nil {
		b.Fatal(err)
	}
	var login struct{ Access string }
	json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()

	for _, kw := range []string{"park.lee12345", "choi.jung77", "example", "zzq", "kim.lee10@club.example.net"} {
		b.Run(kw, func(b *testing.B) {
			req, _ := http.NewRequest("GET", hs.URL+"/user/search-friends/?keyword="+kw, nil)
			req.Header.Set("Authorization", "Bearer "+login.Access)
			for b.Loop() {
				res, err := hs.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
		})
	}
}
