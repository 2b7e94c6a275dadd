package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// newFriendsTestStore opens a store on a fresh file in a temp dir.
func newFriendsTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "app.db"), Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// insertUsers adds accounts straight into the table (no password hashing,
// which would dominate the tests) and returns their ids in order.
func insertUsers(t testing.TB, s *Store, private func(i int) bool, emails ...string) []int64 {
	t.Helper()
	ids := make([]int64, len(emails))
	err := s.write(context.Background(), func(tx *sql.Tx) error {
		stmt, err := tx.Prepare(`INSERT INTO users (email, password_hash, nickname, is_private, contact_number, created_at) VALUES (?, 'x', ?, ?, '010-1234', 0)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, e := range emails {
			res, err := stmt.Exec(e, strings.Split(e, "@")[0], private != nil && private(i))
			if err != nil {
				return fmt.Errorf("insert %s: %w", e, err)
			}
			ids[i], _ = res.LastInsertId()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert users: %v", err)
	}
	return ids
}

func TestPrefixedColumns(t *testing.T) {
	got := prefixed("u", "id, email, COALESCE(picture_id, 0), created_at,\n\tdeleted_at IS NOT NULL")
	want := "u.id, u.email, COALESCE(u.picture_id, 0), u.created_at, u.deleted_at IS NOT NULL"
	if got != want {
		t.Errorf("prefixed = %q, want %q", got, want)
	}
}

func TestFriendList(t *testing.T) {
	ctx := context.Background()
	s := newFriendsTestStore(t)
	ids := insertUsers(t, s, nil, "ann@example.com", "bob@example.com", "cy@example.com")
	ann, bob, cy := ids[0], ids[1], ids[2]

	// Email lookups ignore case, the local part's too.
	if f, err := s.AddFriend(ctx, ann, " BOB@EXAMPLE.COM "); err != nil || f.ID != bob {
		t.Fatalf("add bob by another case: %v, %v", f, err)
	}
	if _, err := s.AddFriend(ctx, ann, "cy@example.com"); err != nil {
		t.Fatalf("add cy: %v", err)
	}
	if _, err := s.AddFriend(ctx, bob, "ann@example.com"); err != nil {
		t.Fatalf("bob adds ann: %v", err)
	}

	for _, tc := range []struct {
		name  string
		user  int64
		email string
		want  error
	}{
		{"myself", ann, "ann@example.com", ErrFriendSelf},
		{"already", ann, "bob@example.com", ErrFriendExists},
		{"unknown", ann, "nobody@example.com", ErrNotFound},
	} {
		if _, err := s.AddFriend(ctx, tc.user, tc.email); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	var ve *ValidationError
	if _, err := s.AddFriend(ctx, ann, "  "); !errors.As(err, &ve) || !ve.Has("email") {
		t.Errorf("blank email: err %v, want a validation error on email", err)
	}

	list, err := s.Friends(ctx, ann)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		id     int64
		mutual bool
	}
	var got []entry
	for _, f := range list {
		got = append(got, entry{f.User.ID, f.Mutual})
	}
	if want := []entry{{bob, true}, {cy, false}}; !slices.Equal(got, want) {
		t.Errorf("ann's friends = %v, want %v", got, want)
	}

	if ok, _ := s.HasAdded(ctx, bob, ann); !ok {
		t.Error("HasAdded(bob, ann) = false, want true")
	}
	if ok, _ := s.HasAdded(ctx, cy, ann); ok {
		t.Error("HasAdded(cy, ann) = true, want false: lists are one-directional")
	}

	if err := s.RemoveFriend(ctx, ann, "cy@example.com"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	for _, email := range []string{"cy@example.com", "nobody@example.com"} {
		if err := s.RemoveFriend(ctx, ann, email); !errors.Is(err, ErrNotFriend) {
			t.Errorf("remove %s again: err %v, want ErrNotFriend", email, err)
		}
	}
	if list, _ := s.Friends(ctx, ann); len(list) != 1 {
		t.Errorf("after remove: %d friends, want 1", len(list))
	}
	if ok, _ := s.HasAdded(ctx, bob, ann); !ok {
		t.Error("removing cy touched bob's list")
	}
}

// The primary key itself refuses a second row for the same pair, so no
// interleaving of adds can make one.
func TestFriendPairIsUnique(t *testing.T) {
	ctx := context.Background()
	s := newFriendsTestStore(t)
	ids := insertUsers(t, s, nil, "a@example.com", "b@example.com")
	insert := func() error {
		return s.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO friends (user_id, friend_id, created_at) VALUES (?, ?, 0)`, ids[0], ids[1])
			return err
		})
	}
	if err := insert(); err != nil {
		t.Fatal(err)
	}
	if err := insert(); !isUniqueViolation(err) {
		t.Errorf("second insert: err %v, want a unique violation", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO friends (user_id, friend_id, created_at) VALUES (?, ?, 0)`, ids[0], ids[0])
		return err
	})
	if err == nil {
		t.Error("a user on their own list was accepted")
	}
}

func TestAddFriendConcurrently(t *testing.T) {
	ctx := context.Background()
	s := newFriendsTestStore(t)
	ids := insertUsers(t, s, nil, "a@example.com", "b@example.com")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = s.AddFriend(ctx, ids[0], "b@example.com") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrFriendExists):
			t.Errorf("unexpected error: %v", err)
		}
	}
	list, err := s.Friends(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || len(list) != 1 {
		t.Errorf("%d adds succeeded and the list has %d entries, want 1 and 1", ok, len(list))
	}
}

func TestFriendLimit(t *testing.T) {
	ctx := context.Background()
	s := newFriendsTestStore(t)
	owner := insertUsers(t, s, nil, "owner@example.com")[0]
	// Filled by SQL alone: row by row through the driver is slow under -race.
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO users (email, password_hash, nickname, created_at)
			SELECT 'u' || i || '@example.com', 'x', 'u' || i, 0 FROM n`, MaxFriends+1)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO friends (user_id, friend_id, created_at)
			SELECT ?, id, 0 FROM users WHERE id <> ? ORDER BY id LIMIT ?`, owner, owner, MaxFriends)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFriend(ctx, owner, fmt.Sprintf("u%d@example.com", MaxFriends+1)); !errors.Is(err, ErrFriendLimit) {
		t.Errorf("add past the limit: err %v, want ErrFriendLimit", err)
	}
	if _, err := s.AddFriend(ctx, owner, "u1@example.com"); !errors.Is(err, ErrFriendExists) {
		t.Errorf("add a friend again on a full list: err %v, want ErrFriendExists", err)
	}
	if list, _ := s.Friends(ctx, owner); len(list) != MaxFriends {
		t.Errorf("list has %d entries, want %d", len(list), MaxFriends)
	}
}

func TestSearchUsers(t *testing.T) {
	ctx := context.Background()
	s := newFriendsTestStore(t)
	emails := []string{
		"Me@example.com",       // 0: the searcher
		"Alice@example.com",    // 1
		"malice@example.org",   // 2
		"secret@example.com",   // 3: private
		"per%cent@example.com", // 4
		"under_score@example.com",
		"o'brien@example.com",
		`quo"te@example.com`,
		"xyz@example.com",
		"percent@example.com", // 9: what an unescaped % or _ would also match
		"underXscore@example.com",
	}
	ids := insertUsers(t, s, func(i int) bool { return i == 3 }, emails...)
	me := ids[0]

	for _, tc := range []struct {
		keyword string
		want    []int // indexes into emails, in order
	}{
		{"alice", []int{1, 2}},
		{"ALICE@", []int{1, 2}},
		{"lice@example.c", []int{1}},
		{"me@example.com", nil}, // myself, never
		{"example.org", []int{2}},
		{"secret", nil},                    // private: partial keyword
		{"secret@example", nil},            // still partial
		{"SECRET@example.com", []int{3}},   // full address, any case
		{" secret@example.com ", []int{3}}, // trimmed
		{"%", []int{4}},                    // short keyword, LIKE path
		{"r%c", []int{4}},                  // trigram path
		{"_", []int{5}},                    // short keyword, LIKE path
		{"r_s", []int{5}},                  // trigram path
		{"o'b", []int{6}},                  // quote
		{"'", []int{6}},                    // quote, short
		{`o"t`, []int{7}},                  // double quote
		{`"`, []int{7}},                    // double quote, short
		{"xy", []int{8}},                   // two characters
		{"z", []int{8}},                    // one character
		{"nobody", nil},                    // no match
		{"AND OR NOT", nil},                // FTS5 operators are text
		{"*", nil},                         // and so is a prefix star
		{`\`, nil},                         // the LIKE escape character
		{"example.com", []int{1, 4, 5, 6, 7, 8, 9, 10}}, // id order
	} {
		got, err := s.SearchUsers(ctx, me, tc.keyword)
		if err != nil {
			t.Errorf("%q: %v", tc.keyword, err)
			continue
		}
		var gotIDs, wantIDs []int64
		for _, m := range got {
			gotIDs = append(gotIDs, m.User.ID)
		}
		for _, i := range tc.want {
			wantIDs = append(wantIDs, ids[i])
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("%q: ids %v, want %v", tc.keyword, gotIDs, wantIDs)
		}
	}

	for _, kw := range []string{"", "   ", strings.Repeat("a", MaxKeywordLen+1), "a\x00b"} {
		var ve *ValidationError
		if _, err := s.SearchUsers(ctx, me, kw); !errors.As(err, &ve) || !ve.Has("keyword") {
			t.Errorf("%q: err %v, want a validation error on keyword", kw, err)
		}
	}
}

func TestSearchUsersFlagsAndLimit(t *testing.T) {
	ctx := context.Background()
	s := newFriendsTestStore(t)
	emails := make([]string, MaxSearchResults+10)
	for i := range emails {
		emails[i] = fmt.Sprintf("member%03d@club.example", i)
	}
	ids := insertUsers(t, s, nil, emails...)
	me := ids[0]
	if _, err := s.AddFriend(ctx, me, emails[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFriend(ctx, ids[2], emails[0]); err != nil {
		t.Fatal(err)
	}
	for _, kw := range []string{"member", "r"} { // trigram and LIKE paths
		got, err := s.SearchUsers(ctx, me, kw)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != MaxSearchResults {
			t.Fatalf("%q: %d results, want %d", kw, len(got), MaxSearchResults)
		}
		for i, m := range got {
			if m.User.ID != ids[i+1] {
				t.Fatalf("%q: result %d is user %d, want %d (id order)", kw, i, m.User.ID, ids[i+1])
			}
			if wantF, wantA := i == 0, i == 1; m.IsFriend != wantF || m.AddedMe != wantA {
				t.Errorf("%q: %s is_friend=%v added_me=%v, want %v %v", kw, m.User.Email, m.IsFriend, m.AddedMe, wantF, wantA)
			}
		}
	}
}

// The search index follows the users table: new, deleted and renamed users,
// and users that existed before the index did.
func TestSearchIndexInSync(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	idx := slices.IndexFunc(migrations, func(m migration) bool { return strings.HasSuffix(m.name, "_friends.sql") })
	if idx < 0 {
		t.Fatal("no friends migration")
	}
	old, err := open(ctx, path, Options{}, idx)
	if err != nil {
		t.Fatal(err)
	}
	insertUsers(t, old, nil, "early@example.com")
	old.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := insertUsers(t, s, nil, "viewer@example.net", "late@example.com", "gone@example.com")
	search := func(kw string) int {
		t.Helper()
		got, err := s.SearchUsers(ctx, ids[0], kw)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := search("early"); n != 1 {
		t.Errorf("user from before the index: %d results, want 1", n)
	}
	if n := search("late@"); n != 1 {
		t.Errorf("new user: %d results, want 1", n)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM users WHERE id = ?`, ids[2]); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE users SET email = 'renamed@example.com' WHERE id = ?`, ids[1])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for kw, want := range map[string]int{"gone": 0, "late": 0, "renamed": 1, "example.com": 2} {
		if n := search(kw); n != want {
			t.Errorf("%q after delete and rename: %d results, want %d", kw, n, want)
		}
	}
	setPrivate := func(private bool) {
		t.Helper()
		err := s.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`UPDATE users SET is_private = ? WHERE id = ?`, private, ids[1])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setPrivate(true)
	setPrivate(true) // no change: the index must not take it twice
	for kw, want := range map[string]int{"renamed": 0, "renamed@example.com": 1, "RENAMED@EXAMPLE.COM": 1} {
		if n := search(kw); n != want {
			t.Errorf("%q once private: %d results, want %d", kw, n, want)
		}
	}
	setPrivate(false)
	if n := search("renamed"); n != 1 {
		t.Errorf("public again: %d results, want 1", n)
	}
	// A private user deleted leaves no trace in the index either.
	insertUsers(t, s, func(int) bool { return true }, "hidden@example.com")
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM users WHERE email = 'hidden@example.com'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The index holds exactly the public users.
	ids2 := func(q string) []int64 {
		t.Helper()
		rows, err := s.rdb.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			out = append(out, id)
		}
		return out
	}
	indexed := ids2(`SELECT rowid FROM users_email_search ORDER BY rowid`)
	public := ids2(`SELECT id FROM users WHERE is_private = 0 ORDER BY id`)
	if !slices.Equal(indexed, public) {
		t.Errorf("index holds users %v, want the public ones %v", indexed, public)
	}
	if _, err := s.wdb.Exec(`INSERT INTO users_email_search (users_email_search, rank) VALUES ('integrity-check', 1)`); err != nil {
		t.Errorf("index integrity check: %v", err)
	}
}
