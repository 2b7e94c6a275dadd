package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestCounts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := mustCreate(t, s, "a@example.com")
	b := mustCreate(t, s, "b@example.com")
	if err := s.SetAdmin(ctx, a.Email, true); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.CreatePost(ctx, NewPost{AuthorID: b.ID, Title: fmt.Sprint("post ", i), Content: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	room, err := s.CreateRoom(ctx, a.ID, "lobby")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.AddMessage(ctx, NewMessage{RoomID: room.ID, UserID: a.ID, Body: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Counts(ctx)
	want := Counts{Users: 2, Admins: 1, Posts: 3, Rooms: 1, Messages: 2}
	if err != nil || got != want {
		t.Fatalf("Counts = %+v, %v; want %+v", got, err, want)
	}
	size, err := s.DiskSize()
	if err != nil || size < 4096 {
		t.Fatalf("DiskSize = %d, %v; want the bytes of a database with rows", size, err)
	}
}

func TestPostsByAuthor(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := mustCreate(t, s, "a@example.com")
	b := mustCreate(t, s, "b@example.com")
	for i := range 4 {
		if _, err := s.CreatePost(ctx, NewPost{AuthorID: a.ID, Title: fmt.Sprint("a", i), Content: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreatePost(ctx, NewPost{AuthorID: b.ID, Title: "b", Content: "x"}); err != nil {
		t.Fatal(err)
	}
	posts, total, err := s.PostsByAuthor(ctx, a.ID, 2)
	if err != nil || total != 4 || len(posts) != 2 || posts[0].Title != "a3" || posts[1].Title != "a2" {
		t.Fatalf("PostsByAuthor = %d posts (%v), total %d, %v; want the newest 2 of 4", len(posts), posts, total, err)
	}
	if _, total, _ := s.PostsByAuthor(ctx, 999, 5); total != 0 {
		t.Fatalf("unknown author has %d posts", total)
	}
}

// Admins find every account, private ones too, by any part of the email;
// with no keyword they see the admins.
func TestAdminSearchUsers(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ids := insertUsers(t, s, func(i int) bool { return i == 1 }, "ann@example.com", "hidden@example.com", "a_b@example.org", "axb@example.org")
	if _, err := s.SetAdminByID(ctx, nil, ids[3], true); err != nil {
		t.Fatal(err)
	}
	emails := func(us []*User) string {
		var out []string
		for _, u := range us {
			out = append(out, u.Email)
		}
		return fmt.Sprint(out)
	}
	tests := []struct{ keyword, want string }{
		{"", "[axb@example.org]"},
		{"HIDDEN", "[hidden@example.com]"},
		{"example.com", "[ann@example.com hidden@example.com]"},
		{"a_b", "[a_b@example.org]"}, // _ is a character, not a wildcard
		{"%", "[]"},
		{"nobody", "[]"},
	}
	for _, tt := range tests {
		got, err := s.AdminSearchUsers(ctx, tt.keyword)
		if err != nil || emails(got) != tt.want {
			t.Errorf("AdminSearchUsers(%q) = %s, %v; want %s", tt.keyword, emails(got), err, tt.want)
		}
	}
	var ve *ValidationError
	if _, err := s.AdminSearchUsers(ctx, "a\x00"); !errors.As(err, &ve) {
		t.Errorf("control character: err %v, want a ValidationError", err)
	}
}

// The community always keeps one admin.
func TestSetAdminByIDKeepsLastAdmin(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ids := insertUsers(t, s, nil, "one@example.com", "two@example.com")
	if u, err := s.SetAdminByID(ctx, nil, ids[0], true); err != nil || !u.IsAdmin {
		t.Fatalf("make admin: %v, %v", u, err)
	}
	if _, err := s.SetAdminByID(ctx, nil, ids[0], false); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demote the only admin: err %v, want ErrLastAdmin", err)
	}
	if u, _ := s.UserByID(ctx, ids[0]); !u.IsAdmin {
		t.Fatal("the refused demotion changed the user")
	}
	if _, err := s.SetAdminByID(ctx, nil, ids[1], true); err != nil {
		t.Fatal(err)
	}
	if u, err := s.SetAdminByID(ctx, nil, ids[0], false); err != nil || u.IsAdmin {
		t.Fatalf("demote one of two admins: %v, %v", u, err)
	}
	if _, err := s.SetAdminByID(ctx, nil, 999, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: err %v, want ErrNotFound", err)
	}
}
