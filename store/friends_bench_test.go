package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
)

// BenchmarkSearchUsers searches 100,000 users, one in ten private, for
// keywords that match one user, a few hundred, nearly all, or none.
func BenchmarkSearchUsers(b *testing.B) {
	ctx := context.Background()
	s := newFriendsTestStore(b)
	const users = 100_000
	first := []string{"kim", "lee", "park", "choi", "jung", "kang", "cho", "yoon", "jang", "lim"}
	domains := []string{"example.com", "mail.example.org", "club.example.net", "school.example.kr"}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.Prepare(`INSERT INTO users (email, password_hash, nickname, is_private, created_at) VALUES (?, 'x', ?, ?, 0)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range users {
			name := fmt.Sprintf("%s.%s%d", first[i%len(first)], first[(i/7)%len(first)], i)
			if _, err := stmt.Exec(name+"@"+domains[i%len(domains)], name, i%10 == 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	me, err := s.UserByEmail(ctx, "kim.kim0@example.com")
	if err != nil {
		b.Fatal(err)
	}
	for _, kw := range []string{
		"park.lee12345", // one user
		"choi.jung77",   // a few hundred
		"example",       // everyone: LIMIT cuts it short
		"zzq",           // nobody
		"example.comx",  // nobody, though each trigram is everywhere
		"zq",            // two characters, nobody: a full scan
		"ki",            // two characters: a scan, cut short by LIMIT
	} {
		b.Run(kw, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SearchUsers(ctx, me.ID, kw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
