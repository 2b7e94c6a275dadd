package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func openChatStore(t *testing.T) (*Store, *User) {
	t.Helper()
	s := openTest(t)
	u, err := s.CreateUser(context.Background(), NewUser{Email: "chat@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return s, u
}

func TestCreateRoomValidation(t *testing.T) {
	s, u := openChatStore(t)
	ctx := context.Background()
	for _, name := range []string{"", "   ", string(make([]rune, MaxRoomNameLen+1)), "bad\x00name", "two\nlines", "a\tb"} {
		_, err := s.CreateRoom(ctx, u.ID, name)
		var ve *ValidationError
		if !errors.As(err, &ve) || !ve.Has("name") {
			t.Errorf("CreateRoom(%q): err %v, want a validation error on name", name, err)
		}
	}
	r, err := s.CreateRoom(ctx, u.ID, "  Lobby  ")
	if err != nil || r.Name != "Lobby" || r.CreatedBy != u.ID {
		t.Fatalf("CreateRoom: %+v, %v; want Lobby by %d", r, err, u.ID)
	}
	got, err := s.RoomByID(ctx, r.ID)
	if err != nil || *got != *r {
		t.Fatalf("RoomByID: %+v, %v; want %+v", got, err, r)
	}
	if _, err := s.RoomByID(ctx, r.ID+1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RoomByID(unknown): %v, want ErrNotFound", err)
	}
}

func TestMessagesPageByID(t *testing.T) {
	s, u := openChatStore(t)
	ctx := context.Background()
	room, _ := s.CreateRoom(ctx, u.ID, "a")
	other, _ := s.CreateRoom(ctx, u.ID, "b")
	var ids []int64
	for i := range 7 {
		m, err := s.AddMessage(ctx, NewMessage{RoomID: room.ID, UserID: u.ID, Body: fmt.Sprint("m", i)})
		if err != nil {
			t.Fatalf("add: %v", err)
		}
		if m.Sender.Email != u.Email || m.Sender.Nickname != u.Nickname || m.RoomID != room.ID {
			t.Fatalf("stored message %+v does not carry its sender and room", m)
		}
		ids = append(ids, m.ID)
		// Interleave another room, so that paging must filter by room.
		if _, err := s.AddMessage(ctx, NewMessage{RoomID: other.ID, UserID: u.ID, Body: "x"}); err != nil {
			t.Fatalf("add: %v", err)
		}
	}
	tests := []struct {
		before int64
		limit  int
		want   []int64
	}{
		{0, 3, ids[4:]},
		{ids[4], 3, ids[1:4]},
		{ids[1], 3, ids[:1]},
		{ids[0], 3, nil},
		{0, 0, ids}, // default limit
	}
	for _, tt := range tests {
		ms, err := s.Messages(ctx, room.ID, tt.before, tt.limit)
		if err != nil {
			t.Fatalf("Messages(before=%d): %v", tt.before, err)
		}
		var got []int64
		for _, m := range ms {
			got = append(got, m.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Messages(before=%d, limit=%d) = %v, want %v", tt.before, tt.limit, got, tt.want)
		}
	}
	if _, err := s.Messages(ctx, other.ID+1, 0, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("Messages(unknown room): %v, want ErrNotFound", err)
	}
}

// A client catching up from the last message it saw gets what came after
// it, oldest first, in pages that join without a gap or an overlap.
func TestMessagesAfterCatchesUp(t *testing.T) {
	s, u := openChatStore(t)
	ctx := context.Background()
	room, _ := s.CreateRoom(ctx, u.ID, "a")
	other, _ := s.CreateRoom(ctx, u.ID, "b")
	var ids []int64
	for i := range 7 {
		m, err := s.AddMessage(ctx, NewMessage{RoomID: room.ID, UserID: u.ID, Body: fmt.Sprint("m", i)})
		if err != nil {
			t.Fatalf("add: %v", err)
		}
		ids = append(ids, m.ID)
		if _, err := s.AddMessage(ctx, NewMessage{RoomID: other.ID, UserID: u.ID, Body: "x"}); err != nil {
			t.Fatalf("add: %v", err)
		}
	}
	tests := []struct {
		after int64
		limit int
		want  []int64
	}{
		{0, 3, ids[:3]},
		{ids[2], 3, ids[3:6]},
		{ids[5], 3, ids[6:]},
		{ids[6], 3, nil},
		{ids[1], 0, ids[2:]}, // default limit
	}
	for _, tt := range tests {
		ms, err := s.MessagesAfter(ctx, room.ID, tt.after, tt.limit)
		if err != nil {
			t.Fatalf("MessagesAfter(%d): %v", tt.after, err)
		}
		var got []int64
		for _, m := range ms {
			got = append(got, m.ID)
			if m.Sender.Email != u.Email {
				t.Errorf("message %d lacks its sender: %+v", m.ID, m.Sender)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("MessagesAfter(after=%d, limit=%d) = %v, want %v", tt.after, tt.limit, got, tt.want)
		}
	}
	if _, err := s.MessagesAfter(ctx, other.ID+1, 0, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("MessagesAfter(unknown room): %v, want ErrNotFound", err)
	}
}

// TestAddMessageGroupCommit sends from many goroutines at once: every call
// must get its own committed row, and a row for a missing room must fail
// alone without taking its batch down.
func TestAddMessageGroupCommit(t *testing.T) {
	s, u := openChatStore(t)
	ctx := context.Background()
	room, _ := s.CreateRoom(ctx, u.ID, "busy")
	const n = 200
	var wg sync.WaitGroup
	ids := make([]int64, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			roomID := room.ID
			if i%50 == 7 {
				roomID = room.ID + 1000 // no such room
			}
			m, err := s.AddMessage(ctx, NewMessage{RoomID: roomID, UserID: u.ID, Body: fmt.Sprint(i)})
			errs[i] = err
			if err == nil {
				ids[i] = m.ID
				if m.Body != fmt.Sprint(i) {
					errs[i] = fmt.Errorf("got body %q", m.Body)
				}
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	ok := 0
	for i, err := range errs {
		if i%50 == 7 {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("message %d to a missing room: %v, want ErrNotFound", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("message %d: %v", i, err)
			continue
		}
		if seen[ids[i]] {
			t.Errorf("id %d handed out twice", ids[i])
		}
		seen[ids[i]] = true
		ok++
	}
	ms, err := s.Messages(ctx, room.ID, 0, MaxHistoryLen)
	if err != nil || len(ms) != ok {
		t.Fatalf("history holds %d messages (%v), want %d", len(ms), err, ok)
	}
	if _, err := s.AddMessage(ctx, NewMessage{RoomID: room.ID, UserID: u.ID, Body: "  "}); err == nil {
		t.Error("a blank message was stored")
	}
}
