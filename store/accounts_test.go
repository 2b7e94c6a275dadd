package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const testPw = "long enough pw"

// wantField checks that err is a ValidationError with a message on field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || !ve.Has(field) {
		t.Fatalf("got %v, want a validation error on %q", err, field)
	}
}

func TestChangePassword(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "pw@example.com")
	for _, jti := range []string{"keep", "other1", "other2"} {
		if err := s.AddRefreshToken(ctx, jti, u.ID, s.now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ name, old, new, field string }{
		{"wrong old password", "not my password", "a new password", "old_password"},
		{"blank old password", "", "a new password", "old_password"},
		{"new too short", testPw, "short", "new_password"},
		{"new all digits", testPw, "1234567890", "new_password"},
		{"new equal to email", testPw, "pw@example.com", "new_password"},
	}
	for _, tt := range tests {
		_, err := s.ChangePassword(ctx, u.ID, tt.old, tt.new, "keep")
		wantField(t, err, tt.field)
	}
	// Nothing changed by the refusals.
	if _, err := s.Authenticate(ctx, u.Email, testPw); err != nil {
		t.Fatalf("old password stopped working after refusals: %v", err)
	}
	after, err := s.ChangePassword(ctx, u.ID, testPw, "a new password", "keep")
	if err != nil {
		t.Fatal(err)
	}
	if after.AuthEpoch != u.AuthEpoch+1 {
		t.Fatalf("auth epoch %d, want %d", after.AuthEpoch, u.AuthEpoch+1)
	}
	if _, err := s.Authenticate(ctx, u.Email, testPw); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("old password after change: %v", err)
	}
	if _, err := s.Authenticate(ctx, u.Email, "a new password"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if err := s.RevokeRefreshToken(ctx, "other1", u.ID); !errors.Is(err, ErrTokenRevoked) {
		t.Fatalf("another refresh token survived the change: %v", err)
	}
	if err := s.RevokeRefreshToken(ctx, "keep", u.ID); err != nil {
		t.Fatalf("the caller's own refresh token was revoked: %v", err)
	}
}

func TestPasswordReset(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "app.db"),
		Options{BcryptCost: bcrypt.MinCost, Now: func() time.Time { return *clock.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	admin := mustCreate(t, s, "admin@example.com")
	u := mustCreate(t, s, "forgot@example.com")

	secret, expires, err := s.CreatePasswordReset(ctx, u.ID, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !expires.Equal(now.Add(PasswordResetTTL)) {
		t.Fatalf("expires %v, want 24 h from now", expires)
	}
	if got, err := s.PasswordResetUser(ctx, secret); err != nil || got.ID != u.ID {
		t.Fatalf("reset user: %v %v", got, err)
	}
	_, err = s.ResetPassword(ctx, secret, "short")
	wantField(t, err, "password")
	if _, err := s.ResetPassword(ctx, secret, "brand new pass"); err != nil {
		t.Fatal(err)
	}
	// Single use.
	_, err = s.ResetPassword(ctx, secret, "another new pass")
	wantField(t, err, "token")
	if _, err := s.Authenticate(ctx, u.Email, "brand new pass"); err != nil {
		t.Fatalf("login with the reset password: %v", err)
	}

	// A link dies when the password changes by another way...
	second, _, _ := s.CreatePasswordReset(ctx, u.ID, admin.ID)
	if _, err := s.SetPassword(ctx, u.ID, "set by operator"); err != nil {
		t.Fatal(err)
	}
	_, err = s.ResetPassword(ctx, second, "yet another pass")
	wantField(t, err, "token")

	// ...and after 24 hours.
	third, _, _ := s.CreatePasswordReset(ctx, u.ID, admin.ID)
	later := now.Add(PasswordResetTTL + time.Second)
	clock.Store(&later)
	_, err = s.PasswordResetUser(ctx, third)
	wantField(t, err, "token")
	_, err = s.PasswordResetUser(ctx, "made-up")
	wantField(t, err, "token")
}

// Two uses of one reset link at once set one password.
func TestPasswordResetOnceUnderRace(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "race@example.com")
	secret, _, err := s.CreatePasswordReset(ctx, u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 8 {
		wg.Go(func() {
			if _, err := s.ResetPassword(ctx, secret, "raced password"); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d resets succeeded with one link, want 1", ok.Load())
	}
}

func TestInvites(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	admin := mustCreate(t, s, "admin@example.com")
	for _, tt := range []struct {
		uses  int
		ttl   time.Duration
		field string
	}{{0, 0, "max_uses"}, {MaxInviteUses + 1, 0, "max_uses"}, {1, -time.Hour, "expires_in_days"}, {1, MaxInviteTTL + time.Hour, "expires_in_days"}} {
		_, err := s.CreateInvite(ctx, admin.ID, tt.uses, tt.ttl)
		wantField(t, err, tt.field)
	}
	inv, err := s.CreateInvite(ctx, admin.ID, 2, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	signUp := func(email, code string) error {
		_, err := s.CreateUser(ctx, NewUser{Email: email, Password: testPw, Invite: code, RequireInvite: true})
		return err
	}
	wantField(t, signUp("a@example.com", "WRONGCODE1"), "invite")
	// A refused sign-up spends nothing: the same email twice.
	if err := signUp("b@example.com", inv.Code); err != nil {
		t.Fatal(err)
	}
	wantField(t, signUp("b@example.com", inv.Code), "email")
	// Typed by hand, in lower case with a dash.
	typed := inv.Code[:5] + "-" + inv.Code[5:]
	if err := signUp("c@example.com", typed); err != nil {
		t.Fatalf("hand-typed code: %v", err)
	}
	wantField(t, signUp("d@example.com", inv.Code), "invite") // used up

	inv2, _ := s.CreateInvite(ctx, admin.ID, 5, 0)
	if _, err := s.RevokeInvite(ctx, inv2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeInvite(ctx, inv2.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoking twice: %v, want ErrNotFound", err)
	}
	wantField(t, signUp("e@example.com", inv2.Code), "invite")
	list, err := s.Invites(ctx)
	if err != nil || len(list) != 2 || list[0].ID != inv2.ID || list[1].Uses != 2 || list[1].Usable(s.now()) {
		t.Fatalf("invites %+v, %v", list, err)
	}
}

func TestDeleteAccount(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "leaving@example.com")
	friend := mustCreate(t, s, "friend@example.com")
	if _, err := s.AddFriend(ctx, u.ID, friend.Email); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFriend(ctx, friend.ID, u.Email); err != nil {
		t.Fatal(err)
	}
	post, err := s.CreatePost(ctx, NewPost{AuthorID: u.ID, Title: "mine", Content: "stays"})
	if err != nil {
		t.Fatal(err)
	}
	room, _ := s.CreateRoom(ctx, u.ID, "room")
	if _, err := s.AddMessage(ctx, NewMessage{RoomID: room.ID, UserID: u.ID, Body: "hello"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRefreshToken(ctx, "t1", u.ID, s.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	wantField(t, s.DeleteAccount(ctx, u.ID, "wrong password"), "password")
	if _, err := s.Authenticate(ctx, u.Email, testPw); err != nil {
		t.Fatalf("a refused delete changed the account: %v", err)
	}
	if err := s.DeleteAccount(ctx, u.ID, testPw); err != nil {
		t.Fatal(err)
	}
	gone, err := s.UserByID(ctx, u.ID)
	if err != nil || !gone.Deleted || gone.Nickname != DeletedNickname || gone.Status != "" || gone.PictureID != 0 {
		t.Fatalf("closed account row %+v, %v", gone, err)
	}
	if _, err := s.Authenticate(ctx, u.Email, testPw); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("login to a closed account: %v", err)
	}
	if list, _ := s.Friends(ctx, friend.ID); len(list) != 0 {
		t.Fatalf("friend rows survived: %+v", list)
	}
	p, err := s.PostByID(ctx, post.ID)
	if err != nil || p.Author.Nickname != DeletedNickname || p.Author.ID != u.ID {
		t.Fatalf("post after delete: %+v, %v", p, err)
	}
	msgs, _ := s.Messages(ctx, room.ID, 0, 10)
	if len(msgs) != 1 || msgs[0].Sender.Nickname != DeletedNickname {
		t.Fatalf("messages after delete: %+v", msgs)
	}
	if err := s.RevokeRefreshToken(ctx, "t1", u.ID); !errors.Is(err, ErrTokenRevoked) {
		t.Fatalf("refresh token survived: %v", err)
	}
	// The email is free, and the new account shares nothing with the old.
	again := mustCreate(t, s, "leaving@example.com")
	if again.ID == u.ID {
		t.Fatal("the new account got the old id")
	}
	if list, _ := s.Friends(ctx, again.ID); len(list) != 0 {
		t.Fatalf("new account inherited friends: %+v", list)
	}
	n := 0
	s.EachPostBy(ctx, again.ID, func(*Post) error { n++; return nil })
	if n != 0 {
		t.Fatalf("new account inherited %d posts", n)
	}
}

// The last admin cannot leave: nobody could run the community after them.
func TestLastAdminCannotDeleteAccount(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a := mustCreate(t, s, "a@example.com")
	b := mustCreate(t, s, "b@example.com")
	s.SetAdmin(ctx, a.Email, true)
	wantField(t, s.DeleteAccount(ctx, a.ID, testPw), "non_field_errors")
	s.SetAdmin(ctx, b.Email, true)
	if err := s.DeleteAccount(ctx, a.ID, testPw); err != nil {
		t.Fatalf("an admin with another admin left: %v", err)
	}
	wantField(t, s.DeleteAccount(ctx, b.ID, testPw), "non_field_errors")
}

func TestDisabledAccountCannotLogIn(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "off@example.com")
	if _, err := s.wdb.ExecContext(ctx, `UPDATE users SET disabled_at = 1 WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, u.Email, testPw); !errors.Is(err, ErrAccountDisabled) {
		t.Fatalf("login to a disabled account: %v, want ErrAccountDisabled", err)
	}
	if _, err := s.Authenticate(ctx, u.Email, "wrong password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("a wrong password on a disabled account: %v, want ErrInvalidCredentials", err)
	}
}

func TestAuditLog(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	admin := mustCreate(t, s, "admin@example.com")
	for i := range 5 {
		if err := s.Audit(ctx, admin, "invite.create", "invite", string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Audit(ctx, nil, "user.password", "user 1", ""); err != nil {
		t.Fatal(err)
	}
	page, err := s.AuditLog(ctx, 0, 3)
	if err != nil || len(page) != 3 || page[0].Actor != "operator" || page[1].Detail != "e" {
		t.Fatalf("first page %+v, %v", page, err)
	}
	rest, _ := s.AuditLog(ctx, page[2].ID, 10)
	if len(rest) != 3 || rest[2].Detail != "a" || rest[2].Actor != admin.Email {
		t.Fatalf("second page %+v", rest)
	}
}
