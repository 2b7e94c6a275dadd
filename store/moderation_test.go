package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Disabling ends every login for good (tokens revoked, epoch moved on),
// keeps one admin who can act, and is recorded with the change.
func TestSetDisabled(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	admin := mustCreate(t, s, "admin@example.com")
	user := mustCreate(t, s, "user@example.com")
	if _, err := s.SetAdminByID(ctx, nil, admin.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRefreshToken(ctx, "jti-1", user.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	u, err := s.SetDisabled(ctx, admin, user.ID, true)
	if err != nil || !u.Disabled || u.AuthEpoch != user.AuthEpoch+1 {
		t.Fatalf("disable: %+v, %v", u, err)
	}
	err = s.RotateRefreshToken(ctx, "jti-1", user.ID, func(time.Time) (string, time.Time, error) {
		return "jti-2", time.Now().Add(time.Hour), nil
	})
	if err == nil {
		t.Fatal("a disabled user's refresh token still rotates")
	}
	if again, err := s.SetDisabled(ctx, admin, user.ID, true); err != nil || again.AuthEpoch != u.AuthEpoch {
		t.Fatalf("disabling twice: %+v, %v", again, err)
	}
	if u, err = s.SetDisabled(ctx, admin, user.ID, false); err != nil || u.Disabled {
		t.Fatalf("enable: %+v, %v", u, err)
	}
	log, _ := s.AuditLog(ctx, 0, 10)
	if len(log) != 3 || log[0].Action != "user.enable" || log[1].Action != "user.disable" || log[1].Actor != admin.Email ||
		log[1].Target != "user 2 (user@example.com)" || log[2].Action != "user.make_admin" || log[2].Actor != "operator" {
		t.Fatalf("audit log %+v", log)
	}

	// The last admin who can act stays: neither disabled nor demoted,
	// and a disabled admin does not count as one.
	if _, err := s.SetDisabled(ctx, nil, admin.ID, true); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("disable the only admin: %v, want ErrLastAdmin", err)
	}
	if _, err := s.SetAdminByID(ctx, nil, user.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled(ctx, admin, user.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAdminByID(ctx, nil, admin.ID, false); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demote the only admin who is not disabled: %v, want ErrLastAdmin", err)
	}
	if err := s.DeleteAccount(ctx, admin.ID, testPw); err == nil {
		t.Fatal("the only admin who is not disabled closed their account")
	}
	if _, err := s.SetDisabled(ctx, admin, 999, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: %v, want ErrNotFound", err)
	}
	if users, _ := s.DisabledUsers(ctx); len(users) != 1 || users[0].ID != user.ID {
		t.Fatalf("disabled users %+v", users)
	}
}

// Deleting a room takes its messages; deleting a message takes only it.
// Both are recorded, without what the messages said.
func TestDeleteRoomAndMessage(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	admin := mustCreate(t, s, "admin@example.com")
	user := mustCreate(t, s, "user@example.com")
	room, _ := s.CreateRoom(ctx, user.ID, "Spam")
	other, _ := s.CreateRoom(ctx, user.ID, "Other")
	var msgs []*Message
	for _, r := range []int64{room.ID, room.ID, other.ID, other.ID} {
		m, err := s.AddMessage(ctx, NewMessage{RoomID: r, UserID: user.ID, Body: "secret words"})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	m, err := s.DeleteMessage(ctx, admin, msgs[2].ID)
	if err != nil || m.RoomID != other.ID || m.Sender.Email != user.Email {
		t.Fatalf("delete message: %+v, %v", m, err)
	}
	if _, err := s.DeleteMessage(ctx, admin, msgs[2].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete it again: %v, want ErrNotFound", err)
	}
	if n, _ := s.RoomMessageCount(ctx, other.ID); n != 1 {
		t.Fatalf("%d messages left in the other room, want 1", n)
	}
	gone, n, err := s.DeleteRoom(ctx, admin, room.ID)
	if err != nil || gone.Name != "Spam" || n != 2 {
		t.Fatalf("delete room: %+v, %d, %v", gone, n, err)
	}
	if _, _, err := s.DeleteRoom(ctx, admin, room.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete it again: %v, want ErrNotFound", err)
	}
	if _, err := s.MessageByID(ctx, msgs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a message of the deleted room: %v, want ErrNotFound", err)
	}
	if _, err := s.RoomMessageCount(ctx, room.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("count of a deleted room: %v, want ErrNotFound", err)
	}
	log, _ := s.AuditLog(ctx, 0, 10)
	if len(log) != 2 || log[0].Action != "room.delete" || log[1].Action != "message.delete" {
		t.Fatalf("audit log %+v", log)
	}
	for _, e := range log {
		if strings.Contains(e.Target+e.Detail, "secret") {
			t.Fatalf("the log keeps what was said: %+v", e)
		}
	}
}

// An admin's removal of a post is recorded with it; an author's own
// deletion is not.
func TestRemovePostIsAudited(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	admin := mustCreate(t, s, "admin@example.com")
	user := mustCreate(t, s, "user@example.com")
	long := strings.Repeat("가", 100)
	p1, _ := s.CreatePost(ctx, NewPost{AuthorID: user.ID, Title: long, Content: "x"})
	p2, _ := s.CreatePost(ctx, NewPost{AuthorID: user.ID, Title: "own", Content: "x"})
	if err := s.RemovePost(ctx, admin, p1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePost(ctx, p2.ID); err != nil {
		t.Fatal(err)
	}
	log, _ := s.AuditLog(ctx, 0, 10)
	if len(log) != 1 || log[0].Action != "post.delete" || log[0].Detail != "by user@example.com" ||
		!strings.HasSuffix(log[0].Target, "…”") || len([]rune(log[0].Target)) > auditClip+20 {
		t.Fatalf("audit log %+v", log)
	}
}
