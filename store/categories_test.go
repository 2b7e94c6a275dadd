package store

import (
	"context"
	"fmt"
	"testing"
)

// The kept list of categories follows every change at once, and a caller
// that changes the list it was given changes nothing kept.
func TestCategoriesFollowChanges(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	names := func() string {
		cs, err := s.Categories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := fmt.Sprint(cs)
		for i := range cs {
			cs[i].Name = "changed by the caller"
		}
		return out
	}
	if got := names(); got != "[]" {
		t.Fatalf("a new store has categories %s", got)
	}
	a, err := s.CreateCategory(ctx, "공지")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.CreateCategory(ctx, "Talk")
	want := fmt.Sprintf("[{%d 공지} {%d Talk}]", a.ID, b.ID)
	if got := names(); got != want {
		t.Fatalf("after two creates: %s, want %s", got, want)
	}
	if got := names(); got != want {
		t.Fatalf("read again: %s, want %s", got, want)
	}
	if _, err := s.RenameCategory(ctx, b.ID, "Chatter"); err != nil {
		t.Fatal(err)
	}
	if got, want := names(), fmt.Sprintf("[{%d 공지} {%d Chatter}]", a.ID, b.ID); got != want {
		t.Fatalf("after a rename: %s, want %s", got, want)
	}
	if err := s.DeleteCategory(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := names(), fmt.Sprintf("[{%d Chatter}]", b.ID); got != want {
		t.Fatalf("after a delete: %s, want %s", got, want)
	}
	// A refused change changes nothing, and the list stays right.
	if _, err := s.CreateCategory(ctx, "chatter"); err == nil {
		t.Fatal("a duplicate name was accepted")
	}
	if got, want := names(), fmt.Sprintf("[{%d Chatter}]", b.ID); got != want {
		t.Fatalf("after a refused create: %s, want %s", got, want)
	}
}
