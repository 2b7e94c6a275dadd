package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// openTest opens a store on a fresh file in a temp dir.
func openTest(t *testing.T) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "app.db"))
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustCreate(t *testing.T, s *Store, email string) *User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), NewUser{Email: email, Password: "long enough pw"})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

func TestMigrationsRunTwiceSafely(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	s := openAt(t, path)
	mustCreate(t, s, "a@example.com")
	s.Close()

	s2 := openAt(t, path)
	v, err := s2.SchemaVersion(context.Background())
	if err != nil || v != len(migrations) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(migrations))
	}
	if _, err := s2.UserByEmail(context.Background(), "a@example.com"); err != nil {
		t.Fatalf("user lost on reopen: %v", err)
	}
}

// A file made by an older binary (fewer migrations) is upgraded in place
// and keeps its rows.
func TestMigrationUpgradesOlderFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	old, err := open(ctx, path, Options{BcryptCost: bcrypt.MinCost}, 1)
	if err != nil {
		t.Fatalf("open at version 1: %v", err)
	}
	if v, _ := old.SchemaVersion(ctx); v != 1 {
		t.Fatalf("old file at version %d, want 1", v)
	}
	// The old binary knew only the users table.
	if _, err := old.wdb.Exec(`INSERT INTO users (email, password_hash, nickname, created_at) VALUES ('old@example.com', 'x', 'old', 1)`); err != nil {
		t.Fatalf("insert into old schema: %v", err)
	}
	old.Close()

	s := openAt(t, path)
	if v, _ := s.SchemaVersion(ctx); v != len(migrations) {
		t.Fatalf("upgraded to version %d, want %d", v, len(migrations))
	}
	u, err := s.UserByEmail(ctx, "old@example.com")
	if err != nil || u.Nickname != "old" {
		t.Fatalf("row lost in upgrade: %+v, %v", u, err)
	}
}

func TestRefusesNewerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	s := openAt(t, path)
	if _, err := s.wdb.Exec(`PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(context.Background(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open of a newer file: err = %v, want a 'newer' error", err)
	}
}

// Every pooled connection, not just the first, must enforce foreign keys
// and wait on a busy database: the pragmas live in the DSN for that.
func TestPragmasOnEveryConnection(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	// Hold several reader connections at once so the pool must open new ones.
	var conns []interface{ Close() error }
	for i := 0; i < s.opt.Readers; i++ {
		c, err := s.rdb.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var fk, busy, qo int
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy)
		c.QueryRowContext(ctx, `PRAGMA query_only`).Scan(&qo)
		if fk != 1 || busy != 5000 || qo != 1 {
			t.Errorf("reader %d: foreign_keys=%d busy_timeout=%d query_only=%d; want 1, 5000, 1", i, fk, busy, qo)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	var mode string
	var fk, sync int
	s.wdb.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	s.wdb.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	s.wdb.QueryRow(`PRAGMA synchronous`).Scan(&sync)
	// FULL (2): a commit is on disk before it returns, so nothing
	// acknowledged is lost to a power cut.
	if mode != "wal" || fk != 1 || sync != 2 {
		t.Errorf("writer: journal_mode=%q foreign_keys=%d synchronous=%d; want wal, 1, 2", mode, fk, sync)
	}
	// And the writer really enforces them.
	_, err := s.wdb.Exec(`INSERT INTO pictures (user_id, content_type, data, created_at) VALUES (999, 'image/png', x'00', 1)`)
	if err == nil {
		t.Fatal("insert with a dangling foreign key succeeded")
	}
}

func TestDatabaseFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "app.db")
	openAt(t, path)
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", p, mode)
		}
	}
}

// Commits never checkpoint (wal_autocheckpoint is 0 on the writer): the
// background checkpointer copies the WAL into the main file instead.
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	s := openAt(t, path)
	var auto int
	s.wdb.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto)
	if auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d, want 0", auto)
	}
	before, _ := os.Stat(path)
	for i := range 50 {
		mustCreate(t, s, fmt.Sprintf("u%d@example.com", i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > before.Size() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("main file still %d bytes 5 s after the writes: no checkpoint ran", fi.Size())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReadersCannotWrite(t *testing.T) {
	s := openTest(t)
	if _, err := s.rdb.Exec(`DELETE FROM users`); err == nil {
		t.Fatal("a reader connection wrote to the database")
	}
}

func TestSecretSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	s := openAt(t, path)
	a, err := s.Secret(ctx, "jwt_secret", 32)
	if err != nil || len(a) != 32 {
		t.Fatalf("secret = %x, %v", a, err)
	}
	s.Close()
	b, err := openAt(t, path).Secret(ctx, "jwt_secret", 32)
	if err != nil || string(a) != string(b) {
		t.Fatalf("secret changed across restart: %x then %x (%v)", a, b, err)
	}
	other := openTest(t)
	c, _ := other.Secret(ctx, "jwt_secret", 32)
	if string(a) == string(c) {
		t.Fatal("two databases share a secret: it must be random, not built in")
	}
}

func TestCreateUserValidation(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "taken@example.com")
	tests := []struct {
		name, email, password, field, msg string
	}{
		{"blank email", "", "long enough pw", "email", "This field may not be blank."},
		{"bad email", "not-an-email", "long enough pw", "email", "Enter a valid email address."},
		{"display name", "Bob <bob@example.com>", "long enough pw", "email", "Enter a valid email address."},
		{"no dot in domain", "bob@localhost", "long enough pw", "email", "Enter a valid email address."},
		{"duplicate in other case", "TAKEN@Example.COM", "long enough pw", "email", "A user is already registered with this e-mail address."},
		{"short password", "b@example.com", "short", "password", "This password is too short. It must contain at least 8 characters."},
		{"numeric password", "b@example.com", "1234567890", "password", "This password is entirely numeric."},
		{"password is email", "bob@example.com", "bob@example.com", "password", "The password is too similar to the email."},
		{"password too long", "b@example.com", strings.Repeat("x", 73), "password", "This password is too long. It must contain at most 72 bytes."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateUser(context.Background(), NewUser{Email: tt.email, Password: tt.password})
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if got := ve.Fields[tt.field]; len(got) == 0 || got[0] != tt.msg {
				t.Fatalf("%s errors = %q, want %q", tt.field, got, tt.msg)
			}
		})
	}
}

// Password hashing waits for a free slot, and gives up with its context;
// when the queue of waiters is full too, it refuses at once with ErrBusy
// instead of growing.
func TestPasswordHashingIsBounded(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "app.db"),
		Options{BcryptCost: bcrypt.MinCost, HashSlots: 1, HashQueue: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.hash.slots <- struct{}{} // the one slot is busy
	s.hash.waiting <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = s.CreateUser(ctx, NewUser{Email: "queued@example.com", Password: "long enough pw"})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CreateUser with the hash slot taken: %v, want the context's deadline", err)
	}
	s.hash.waiting <- struct{}{} // and the one place in the queue too
	_, err = s.CreateUser(context.Background(), NewUser{Email: "busy@example.com", Password: "long enough pw"})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("CreateUser with a full queue: %v, want ErrBusy", err)
	}
	if _, err := s.Authenticate(context.Background(), "busy@example.com", "long enough pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Authenticate with a full queue: %v, want ErrBusy", err)
	}
	<-s.hash.waiting
	<-s.hash.waiting
	<-s.hash.slots
	for _, email := range []string{"queued@example.com", "busy@example.com"} {
		if _, err := s.UserByEmail(context.Background(), email); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s was created anyway: %v", email, err)
		}
	}
	mustCreate(t, s, "later@example.com")
}

// A taken email is found before the password is hashed: a duplicate costs
// no CPU.
func TestDuplicateEmailIsNotHashed(t *testing.T) {
	s := openTest(t)
	mustCreate(t, s, "Taken@example.com")
	before := s.PasswordHashes()
	_, err := s.CreateUser(context.Background(), NewUser{Email: "taken@EXAMPLE.com", Password: "another long pw"})
	var ve *ValidationError
	if !errors.As(err, &ve) || !ve.Has("email") {
		t.Fatalf("duplicate: %v, want an email ValidationError", err)
	}
	if got := s.PasswordHashes() - before; got != 0 {
		t.Fatalf("a duplicate registration hashed %d passwords, want 0", got)
	}
}

func TestAuthenticate(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "Kim@Example.com")
	if u.Email != "Kim@example.com" || u.Nickname != "Kim" {
		t.Fatalf("created %q / %q, want the domain lowercased and the local part as nickname", u.Email, u.Nickname)
	}
	if _, err := s.Authenticate(ctx, "kim@EXAMPLE.com", "long enough pw"); err != nil {
		t.Fatalf("login with other case: %v", err)
	}
	for _, c := range []struct{ email, pw string }{{"kim@example.com", "wrong password"}, {"nobody@example.com", "long enough pw"}} {
		if _, err := s.Authenticate(ctx, c.email, c.pw); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Authenticate(%q, %q) = %v, want ErrInvalidCredentials", c.email, c.pw, err)
		}
	}
	if strings.Contains(u.PasswordHash, "long enough pw") || !strings.HasPrefix(u.PasswordHash, "$2") {
		t.Fatalf("password stored as %q, want a bcrypt hash", u.PasswordHash)
	}
}

// next issues a successor token named jti that expires at exp.
func next(jti string, exp time.Time) NextRefreshToken {
	return func(time.Time) (string, time.Time, error) { return jti, exp, nil }
}

func TestRefreshTokenRotation(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "a@example.com")
	exp := time.Now().Add(time.Hour)
	if err := s.AddRefreshToken(ctx, "one", u.ID, exp); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateRefreshToken(ctx, "one", u.ID, next("two", exp)); err != nil {
		t.Fatalf("first rotation: %v", err)
	}
	if err := s.RevokeRefreshToken(ctx, "two", u.ID+1); !errors.Is(err, ErrTokenRevoked) {
		t.Fatalf("revoking another user's token: %v, want ErrTokenRevoked", err)
	}
	if err := s.RevokeRefreshToken(ctx, "two", u.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := s.RotateRefreshToken(ctx, "two", u.ID, next("four", exp)); !errors.Is(err, ErrTokenRevoked) {
		t.Fatalf("use of a revoked token: %v, want ErrTokenRevoked", err)
	}
	if err := s.RotateRefreshToken(ctx, "never", u.ID, next("five", exp)); !errors.Is(err, ErrTokenRevoked) {
		t.Fatalf("use of an unknown token: %v, want ErrTokenRevoked", err)
	}
	// A successor that cannot be issued leaves the old token usable.
	s.AddRefreshToken(ctx, "six", u.ID, exp)
	refuse := errors.New("refused")
	if err := s.RotateRefreshToken(ctx, "six", u.ID, func(time.Time) (string, time.Time, error) {
		return "", time.Time{}, refuse
	}); !errors.Is(err, refuse) {
		t.Fatalf("refused successor: %v", err)
	}
	if err := s.RotateRefreshToken(ctx, "six", u.ID, next("seven", exp)); err != nil {
		t.Fatalf("rotation after a refused successor: %v", err)
	}
}

// A rotated-away token shown again revokes every refresh token of its
// user, the rotated chain's newest and unrelated logins alike, but no
// other user's.
func TestRefreshTokenReuseRevokesAll(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "a@example.com")
	other := mustCreate(t, s, "b@example.com")
	exp := time.Now().Add(time.Hour)
	s.AddRefreshToken(ctx, "chain1", u.ID, exp)
	s.AddRefreshToken(ctx, "phone", u.ID, exp)
	s.AddRefreshToken(ctx, "theirs", other.ID, exp)
	if err := s.RotateRefreshToken(ctx, "chain1", u.ID, next("chain2", exp)); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateRefreshToken(ctx, "chain1", u.ID, next("thief", exp)); !errors.Is(err, ErrTokenReused) {
		t.Fatalf("reuse of a rotated token: %v, want ErrTokenReused", err)
	}
	for _, jti := range []string{"chain2", "phone", "thief"} {
		if err := s.RotateRefreshToken(ctx, jti, u.ID, next(jti+"-next", exp)); err == nil {
			t.Errorf("token %s still rotates after the reuse", jti)
		}
	}
	if err := s.RotateRefreshToken(ctx, "theirs", other.ID, next("theirs2", exp)); err != nil {
		t.Errorf("another user's token was revoked too: %v", err)
	}
}

// Rotation hands the successor the login time of the chain's first token,
// not the time of the rotation.
func TestRefreshTokenRotationCarriesLoginTime(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "app.db"),
		Options{BcryptCost: bcrypt.MinCost, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	u := mustCreate(t, s, "a@example.com")
	login := now
	exp := now.Add(365 * 24 * time.Hour)
	s.AddRefreshToken(ctx, "t0", u.ID, exp)
	for i := 1; i <= 3; i++ {
		now = now.Add(10 * 24 * time.Hour)
		var got time.Time
		err := s.RotateRefreshToken(ctx, fmt.Sprint("t", i-1), u.ID, func(loginAt time.Time) (string, time.Time, error) {
			got = loginAt
			return fmt.Sprint("t", i), exp, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(login) {
			t.Fatalf("rotation %d: login time %v, want %v", i, got, login)
		}
	}
}

// Concurrent rotations of one token: exactly one wins.
func TestRefreshTokenRotationRace(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "a@example.com")
	exp := time.Now().Add(time.Hour)
	s.AddRefreshToken(ctx, "seed", u.ID, exp)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.RotateRefreshToken(ctx, "seed", u.ID, next("next"+string(rune('a'+i)), exp)) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d rotations of one token succeeded, want 1", wins)
	}
}

func TestUpdateProfileIsAllOrNothing(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "a@example.com")
	nick, bad := "New name", "call me maybe"
	_, err := s.UpdateProfile(ctx, u.ID, ProfileUpdate{Nickname: &nick, ContactNumber: &bad})
	var ve *ValidationError
	if !errors.As(err, &ve) || !ve.Has("contact_number") {
		t.Fatalf("err = %v, want a contact_number error", err)
	}
	got, _ := s.UserByID(ctx, u.ID)
	if got.Nickname != u.Nickname {
		t.Fatalf("nickname changed to %q by a refused update", got.Nickname)
	}
}

func TestPictureReplacedAndOldDeleted(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "a@example.com")
	u1, err := s.UpdateProfile(ctx, u.ID, ProfileUpdate{Picture: &Picture{ContentType: "image/png", Data: []byte("one")}})
	if err != nil {
		t.Fatal(err)
	}
	u2, err := s.UpdateProfile(ctx, u.ID, ProfileUpdate{Picture: &Picture{ContentType: "image/png", Data: []byte("two")}})
	if err != nil {
		t.Fatal(err)
	}
	if u1.PictureID == u2.PictureID {
		t.Fatal("a new picture reused the old id: its URL would serve changed bytes")
	}
	if _, err := s.PictureByID(ctx, u1.PictureID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old picture still stored: %v", err)
	}
	u3, _ := s.UpdateProfile(ctx, u.ID, ProfileUpdate{RemovePicture: true})
	if u3.PictureID != 0 {
		t.Fatal("picture not removed")
	}
	if _, err := s.PictureByID(ctx, u2.PictureID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed picture still stored: %v", err)
	}
}

func TestBackup(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustCreate(t, s, "a@example.com")
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := s.Backup(ctx, dst); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if err := s.Backup(ctx, dst); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	c := openAt(t, dst)
	if _, err := c.UserByEmail(ctx, "a@example.com"); err != nil {
		t.Fatalf("backup lacks the user: %v", err)
	}
	if fi, _ := os.Stat(dst); fi.Size() == 0 {
		t.Fatal("empty backup")
	}
}

func TestSessionsStore(t *testing.T) {
	now := time.Now()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "app.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ss := s.Sessions()
	if err := ss.Commit("tok", []byte("data"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := ss.Find("tok"); !ok || err != nil || string(b) != "data" {
		t.Fatalf("find = %q, %v, %v", b, ok, err)
	}
	now = now.Add(2 * time.Minute)
	if _, ok, _ := ss.Find("tok"); ok {
		t.Fatal("an expired session was found")
	}
	if err := s.PurgeExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	s.rdb.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d expired sessions left after purge", n)
	}
}

// migrationsBefore is how many migrations come before the one whose file
// name ends in suffix, for opening a file as the binary before it left it.
func migrationsBefore(t *testing.T, suffix string) int {
	t.Helper()
	for i, m := range migrations {
		if strings.HasSuffix(m.name, suffix) {
			return i
		}
	}
	t.Fatalf("no migration *%s", suffix)
	return 0
}

// Pictures stored before they had keys get one each at the upgrade, and
// their users' profiles name it, so that every existing picture still
// shows.
func TestPictureKeysGivenToExistingPictures(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	old, err := open(ctx, path, Options{BcryptCost: bcrypt.MinCost}, migrationsBefore(t, "_picture_keys.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{"a@example.com", "b@example.com", "nopic@example.com"} {
		if _, err := old.wdb.Exec(`INSERT INTO users (id, email, password_hash, nickname, created_at) VALUES (?, ?, 'x', 'n', 1)`, i+1, email); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			continue
		}
		if _, err := old.wdb.Exec(`INSERT INTO pictures (id, user_id, content_type, data, created_at) VALUES (?, ?, 'image/png', ?, 1);
			UPDATE users SET picture_id = ? WHERE id = ?`, i+1, i+1, []byte("face of "+email), i+1, i+1); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s := openAt(t, path)
	keys := map[string]bool{}
	for _, email := range []string{"a@example.com", "b@example.com"} {
		u, err := s.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if len(u.PictureKey) != 32 || strings.Trim(u.PictureKey, "0123456789abcdef") != "" || keys[u.PictureKey] {
			t.Fatalf("%s: picture key %q, want 32 fresh hex digits", email, u.PictureKey)
		}
		keys[u.PictureKey] = true
		p, err := s.PictureByKey(ctx, u.PictureKey)
		if err != nil || string(p.Data) != "face of "+email {
			t.Fatalf("%s: picture by key: %v, %v", email, p, err)
		}
	}
	if u, _ := s.UserByEmail(ctx, "nopic@example.com"); u.PictureKey != "" || u.PictureID != 0 {
		t.Fatalf("a user without a picture got %+v", u)
	}
}

// The id of a deleted row is never handed out again, not even the highest
// one after a restart (SQLite reuses it without AUTOINCREMENT): a token, a
// session or a link naming it can never reach a new user, room or post.
func TestDeletedHighestIDNotReused(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		table  string
		create func(t *testing.T, s *Store, i int) int64
	}{
		{"users", func(t *testing.T, s *Store, i int) int64 {
			return mustCreate(t, s, fmt.Sprintf("u%d@example.com", i)).ID
		}},
		{"chat_rooms", func(t *testing.T, s *Store, i int) int64 {
			owner, err := s.UserByEmail(ctx, "owner@example.com")
			if err != nil {
				owner = mustCreate(t, s, "owner@example.com")
			}
			r, err := s.CreateRoom(ctx, owner.ID, fmt.Sprint("room ", i))
			if err != nil {
				t.Fatal(err)
			}
			return r.ID
		}},
		{"posts", func(t *testing.T, s *Store, i int) int64 {
			author, err := s.UserByEmail(ctx, "author@example.com")
			if err != nil {
				author = mustCreate(t, s, "author@example.com")
			}
			p, err := s.CreatePost(ctx, NewPost{AuthorID: author.ID, Title: fmt.Sprint("post ", i), Content: "c"})
			if err != nil {
				t.Fatal(err)
			}
			return p.ID
		}},
	}
	for _, c := range cases {
		t.Run(c.table, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.db")
			s := openAt(t, path)
			var last int64
			for i := range 3 {
				last = c.create(t, s, i)
			}
			if _, err := s.wdb.ExecContext(ctx, `DELETE FROM `+c.table+` WHERE id = ?`, last); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s = openAt(t, path)
			if id := c.create(t, s, 9); id <= last {
				t.Fatalf("new row got id %d; the deleted highest was %d", id, last)
			}
		})
	}
}

// The migration that rebuilds users and chat_rooms keeps every row, id and
// reference: the tables that point at them, the email search index and its
// triggers, and the foreign keys, which hold again afterwards.
func TestAutoincrementMigrationKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	old, err := open(ctx, path, Options{BcryptCost: bcrypt.MinCost}, migrationsBefore(t, "_autoincrement_ids.sql"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = old.wdb.Exec(`
		INSERT INTO users (id, email, password_hash, nickname, created_at, is_private) VALUES
			(3, 'ann@example.com', 'h', 'Ann', 1, 0), (7, 'bob@example.com', 'h', 'Bob', 2, 0), (9, 'cy@example.com', 'h', 'Cy', 3, 1);
		INSERT INTO pictures (id, user_id, content_type, data, created_at, key) VALUES (1, 3, 'image/png', x'00', 1, 'k');
		UPDATE users SET picture_id = 1, picture_key = 'k' WHERE id = 3;
		INSERT INTO friends (user_id, friend_id, created_at) VALUES (3, 7, 1), (7, 3, 1), (9, 3, 1);
		INSERT INTO chat_rooms (id, name, created_by, created_at) VALUES (4, 'Lobby', 3, 1), (6, 'Other', NULL, 1);
		INSERT INTO chat_messages (room_id, user_id, body, created_at) VALUES (4, 3, 'hi', 1), (4, 7, 'hello', 2), (6, 9, 'x', 3);
		INSERT INTO posts (author_id, title, content, created_at, updated_at) VALUES (7, 'title', 'content', 1, 1);
		INSERT INTO refresh_tokens (jti, user_id, expires_at, login_at) VALUES ('j', 3, 99999999999999999, 1);`)
	if err != nil {
		t.Fatalf("seed the old schema: %v", err)
	}
	old.Close()

	s := openAt(t, path)
	for _, table := range []string{"users", "chat_rooms"} {
		var sqlText string
		s.rdb.QueryRow(`SELECT sql FROM sqlite_schema WHERE name = ?`, table).Scan(&sqlText)
		if !strings.Contains(sqlText, "AUTOINCREMENT") {
			t.Errorf("%s: %s, want AUTOINCREMENT", table, sqlText)
		}
	}
	ann, err := s.UserByID(ctx, 3)
	if err != nil || ann.Email != "ann@example.com" || ann.PictureKey != "k" || ann.PictureID != 1 {
		t.Fatalf("user 3 after the migration: %+v, %v", ann, err)
	}
	if cy, err := s.UserByID(ctx, 9); err != nil || !cy.IsPrivate {
		t.Fatalf("user 9: %+v, %v", cy, err)
	}
	if fs, err := s.Friends(ctx, 3); err != nil || len(fs) != 1 {
		t.Fatalf("ann's friends: %+v, %v", fs, err)
	}
	if ms, err := s.Messages(ctx, 4, 0, 10); err != nil || len(ms) != 2 || ms[0].Sender.Email != "ann@example.com" {
		t.Fatalf("room 4's history: %+v, %v", ms, err)
	}
	if r, err := s.RoomByID(ctx, 4); err != nil || r.Name != "Lobby" || r.CreatedBy != 3 {
		t.Fatalf("room 4: %+v, %v", r, err)
	}
	// The email index and its triggers: old rows are found, new ones too,
	// and a private user only by the full address.
	// In order: dan is created before his search, after the first one.
	for _, c := range []struct {
		kw   string
		want int
	}{{"example.com", 1}, {"dan@ex", 1}, {"cy@example.com", 1}} {
		if c.kw == "dan@ex" {
			mustCreate(t, s, "dan@example.com")
		}
		if got, err := s.SearchUsers(ctx, 7, c.kw); err != nil || len(got) != c.want {
			t.Errorf("search %q: %d matches (%v), want %d", c.kw, len(got), err, c.want)
		}
	}
	// The foreign keys hold and act again.
	var fkOn int
	s.wdb.QueryRow(`PRAGMA foreign_keys`).Scan(&fkOn)
	if fkOn != 1 {
		t.Fatal("foreign keys left off after the migration")
	}
	if _, err := s.wdb.Exec(`INSERT INTO chat_messages (room_id, user_id, body, created_at) VALUES (99, 3, 'x', 1)`); err == nil {
		t.Fatal("a message in no room was accepted")
	}
	if _, err := s.wdb.Exec(`DELETE FROM chat_rooms WHERE id = 6`); err != nil {
		t.Fatal(err)
	}
	var n int
	s.rdb.QueryRow(`SELECT count(*) FROM chat_messages WHERE room_id = 6`).Scan(&n)
	if n != 0 {
		t.Fatal("deleting a room left its messages")
	}
	var check string
	s.rdb.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	if check != "ok" {
		t.Fatalf("integrity_check: %s", check)
	}
}

// A migration run with foreign keys off may not leave a reference
// dangling: it is rolled back, and the file stays at its version.
func TestForeignKeysOffMigrationChecked(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	s := openAt(t, path)
	mustCreate(t, s, "a@example.com")
	s.Close()
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	saved := migrations
	defer func() { migrations = saved }()
	migrations = append(slices.Clip(saved), migration{name: "999_bad.sql", sql: foreignKeysOff + "\nDELETE FROM users;"})
	if _, err := db.Exec(`INSERT INTO refresh_tokens (jti, user_id, expires_at) VALUES ('j', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, len(migrations)); err == nil || !strings.Contains(err.Error(), "refers to nothing") {
		t.Fatalf("migration leaving a dangling reference: %v", err)
	}
	var v, users int
	db.QueryRow(`PRAGMA user_version`).Scan(&v)
	db.QueryRow(`SELECT count(*) FROM users`).Scan(&users)
	if v != len(saved) || users != 1 {
		t.Fatalf("after the refused migration: version %d, %d users; want %d and 1", v, users, len(saved))
	}
}
