package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// seedUsersSQL inserts users ?1 to ?2 (numbers, used as emails' digits):
// ten surnames and four domains, one user in ten private.
const seedUsersSQL = `
	WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?),
	names(k, name) AS (VALUES (0, 'kim'), (1, 'lee'), (2, 'park'), (3, 'choi'), (4, 'jung'),
		(5, 'kang'), (6, 'cho'), (7, 'yoon'), (8, 'jang'), (9, 'lim')),
	domains(k, domain) AS (VALUES (0, 'example.com'), (1, 'mail.example.org'),
		(2, 'club.example.net'), (3, 'school.example.kr'))
	INSERT INTO users (email, password_hash, nickname, is_private, created_at)
	SELECT a.name || '.' || b.name || i || '@' || d.domain, 'x', a.name || i, i % 10 = 0, 0
	FROM n JOIN names a ON a.k = i % 10 JOIN names b ON b.k = (i / 7) % 10 JOIN domains d ON d.k = i % 4`

const benchUsers = 100_000

// seedUsers inserts benchUsers users, batch at a time, each batch in its own
// transaction. SQL fills each batch: through the driver row by row it would
// take minutes.
func seedUsers(b *testing.B, s *Store, batch int) {
	b.Helper()
	for lo := 1; lo <= benchUsers; lo += batch {
		err := s.write(context.Background(), func(tx *sql.Tx) error {
			_, err := tx.Exec(seedUsersSQL, lo, min(lo+batch-1, benchUsers))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchUsers searches 100,000 users for keywords that match one
// user, a few hundred, nearly all, or none. "registered" users came in small
// batches, as sign-ups do, and the index merged itself as it grew;
// "upgraded" ones were there before the search index, which the migration
// built in one go.
func BenchmarkSearchUsers(b *testing.B) {
	ctx := context.Background()
	registered := newFriendsTestStore(b)
	seedUsers(b, registered, 100)

	path := filepath.Join(b.TempDir(), "app.db")
	idx := slices.IndexFunc(migrations, func(m migration) bool { return strings.HasSuffix(m.name, "_friends.sql") })
	old, err := open(ctx, path, Options{}, idx)
	if err != nil {
		b.Fatal(err)
	}
	seedUsers(b, old, benchUsers)
	old.Close()
	upgraded, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer upgraded.Close()

	for _, st := range []struct {
		name string
		s    *Store
	}{{"registered", registered}, {"upgraded", upgraded}} {
		me, err := st.s.UserByEmail(ctx, "kim.kim70@club.example.net")
		if err != nil {
			b.Fatal(err)
		}
		for _, kw := range []string{
			"park.lee12345",              // one user
			"choi.jung77",                // a few hundred
			"example",                    // everyone: LIMIT cuts it short
			"zzq",                        // nobody
			"kim.lee10@club.example.net", // a private user, by full address
			"example.comx",               // nobody, though each trigram is everywhere
			"ki",                         // two characters: a scan, cut short by LIMIT
			"zq",                         // two characters, nobody: a full scan
		} {
			b.Run(st.name+"/"+kw, func(b *testing.B) {
				for b.Loop() {
					if _, err := st.s.SearchUsers(ctx, me.ID, kw); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
