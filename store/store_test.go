package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
