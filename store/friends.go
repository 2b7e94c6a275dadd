package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of friend lists and of the user search.
const (
	// MaxFriends caps one user's list, so that listing it stays one cheap
	// response however long an account keeps adding.
	MaxFriends = 5000
	// MaxSearchResults caps one search.
	MaxSearchResults = 50
	// MaxKeywordLen is the longest keyword worth searching for: no email
	// address is longer.
	MaxKeywordLen = MaxEmailLen
)

// Errors of friend lists. Callers compare with errors.Is.
var (
	// ErrFriendSelf means a user tried to add themselves.
	ErrFriendSelf = errors.New("cannot add oneself as a friend")
	// ErrFriendExists means the user is already on the list.
	ErrFriendExists = errors.New("already a friend")
	// ErrFriendLimit means the list already holds MaxFriends entries.
	ErrFriendLimit = errors.New("friend list is full")
	// ErrNotFriend means the user asked to remove someone not on their list.
	ErrNotFriend = errors.New("not a friend")
)

// Friend is one entry of a friend list.
type Friend struct {
	User    *User
	Mutual  bool // the friend has added the list's owner too
	AddedAt time.Time
}

// UserMatch is one result of SearchUsers, seen from the searching user.
type UserMatch struct {
	User     *User
	IsFriend bool // on the searcher's list
	AddedMe  bool // the searcher is on their list
}

// checkFriendEmail validates the email a friend request names.
func checkFriendEmail(email string) error {
	switch {
	case email == "":
		return Invalid("email", "This field may not be blank.")
	case utf8.RuneCountInString(email) > MaxEmailLen:
		return Invalid("email", fmt.Sprintf("Ensure this field has no more than %d characters.", MaxEmailLen))
	}
	return nil
}

// AddFriend puts the user with email on userID's friend list and returns
// that user. It fails with ErrNotFound (no such user), ErrFriendSelf,
// ErrFriendExists or ErrFriendLimit.
func (s *Store) AddFriend(ctx context.Context, userID int64, email string) (*User, error) {
	email = NormalizeEmail(email)
	if err := checkFriendEmail(email); err != nil {
		return nil, err
	}
	if !ValidEmail(email) {
		return nil, Invalid("email", "Enter a valid email address.")
	}
	var friend *User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		friend, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
		if err != nil {
			return err
		}
		if friend.ID == userID {
			return ErrFriendSelf
		}
		// The count and the insert share one write transaction, which holds
		// the database's only write lock: no other add can slip in between.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM friends WHERE user_id = ?`, userID).Scan(&n); err != nil {
			return fmt.Errorf("count friends: %w", err)
		}
		// Duplicates are refused by the primary key, not by a look-up first:
		// the constraint is what holds under any interleaving.
		_, err = tx.ExecContext(ctx, `INSERT INTO friends (user_id, friend_id, created_at) VALUES (?, ?, ?)`,
			userID, friend.ID, micros(s.now()))
		switch {
		case isUniqueViolation(err):
			return ErrFriendExists
		case err != nil:
			return fmt.Errorf("add friend: %w", err)
		case n >= MaxFriends:
			return ErrFriendLimit // rolls the insert back
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return friend, nil
}

// RemoveFriend takes the user with email off userID's friend list. It fails
// with ErrNotFriend when nobody with that email is on the list, whether or
// not the account exists.
func (s *Store) RemoveFriend(ctx context.Context, userID int64, email string) error {
	email = NormalizeEmail(email)
	if err := checkFriendEmail(email); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`DELETE FROM friends WHERE user_id = ? AND friend_id = (SELECT id FROM users WHERE email = ?)`,
			userID, email)
		if err != nil {
			return fmt.Errorf("remove friend: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFriend
		}
		return nil
	})
}

// Friends lists userID's friends in the order they were added.
func (s *Store) Friends(ctx context.Context, userID int64) ([]Friend, error) {
	var out []Friend
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT `+prefixed("u", userColumns)+`, f.created_at,
			       EXISTS (SELECT 1 FROM friends b WHERE b.user_id = f.friend_id AND b.friend_id = f.user_id)
			FROM friends f JOIN users u ON u.id = f.friend_id
			WHERE f.user_id = ?
			ORDER BY f.created_at, f.friend_id`, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var f Friend
			var added int64
			f.User, err = scanUser(rowWith(rows, &added, &f.Mutual))
			if err != nil {
				return err
			}
			f.AddedAt = fromMicros(added)
			out = append(out, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("friends of %d: %w", userID, err)
	}
	return out, nil
}

// HasAdded reports whether ownerID has put otherID on their friend list:
// what lets otherID see ownerID's private profile.
func (s *Store) HasAdded(ctx context.Context, ownerID, otherID int64) (bool, error) {
	var ok bool
	err := s.rdb.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM friends WHERE user_id = ? AND friend_id = ?)`, ownerID, otherID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("has added: %w", err)
	}
	return ok, nil
}

// NormalizeKeyword trims a search keyword and reports whether it is worth
// searching for: not blank, not longer than any email, no control characters.
func NormalizeKeyword(keyword string) (string, error) {
	keyword = strings.TrimSpace(keyword)
	switch {
	case keyword == "":
		return "", Invalid("keyword", "This field may not be blank.")
	case utf8.RuneCountInString(keyword) > MaxKeywordLen:
		return "", Invalid("keyword", fmt.Sprintf("Ensure this field has no more than %d characters.", MaxKeywordLen))
	case !utf8.ValidString(keyword) || strings.IndexFunc(keyword, unicode.IsControl) >= 0:
		return "", Invalid("keyword", "This field may not contain control characters.")
	}
	return keyword, nil
}

// SearchUsers finds users other than viewerID whose email contains keyword,
// ignoring case, in the order they registered, at most MaxSearchResults.
// A private user is found only by their full email address. Characters such
// as % _ " ' in keyword match themselves.
func (s *Store) SearchUsers(ctx context.Context, viewerID int64, keyword string) ([]UserMatch, error) {
	keyword, err := NormalizeKeyword(keyword)
	if err != nil {
		return nil, err
	}
	// Public users come from the trigram index, which holds only them. It
	// can only answer keywords of three characters or more; shorter ones
	// scan users in id order, which LIMIT cuts short as soon as enough match.
	var from, match, order string
	var arg any
	if utf8.RuneCountInString(keyword) >= 3 {
		from = `users_email_search s JOIN users u ON u.id = s.rowid`
		// One quoted FTS5 string: its characters are literal (a quote is
		// doubled), and its trigrams must follow each other, which is
		// exactly "contains keyword".
		match = `users_email_search MATCH ?`
		arg = `"` + strings.ReplaceAll(keyword, `"`, `""`) + `"`
		// The index's own rowid, which it yields in order: ordering by u.id
		// would sort every match before LIMIT applies.
		order = `s.rowid`
	} else {
		from = `users u`
		match = `u.email LIKE ? ESCAPE '\'`
		arg = "%" + likeEscaper.Replace(keyword) + "%"
		order = `u.id`
	}
	columns := `
		SELECT ` + prefixed("u", userColumns) + `,
		       EXISTS (SELECT 1 FROM friends f WHERE f.user_id = ? AND f.friend_id = u.id),
		       EXISTS (SELECT 1 FROM friends f WHERE f.user_id = u.id AND f.friend_id = ?)`
	public := columns + ` FROM ` + from + `
		WHERE ` + match + ` AND u.is_private = 0 AND u.id <> ?
		ORDER BY ` + order + ` LIMIT ?`
	private := columns + ` FROM users u WHERE u.email = ? AND u.is_private = 1 AND u.id <> ?`

	var out []UserMatch
	err = s.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = scanMatches(tx.QueryContext(ctx, public, viewerID, viewerID, arg, viewerID, MaxSearchResults))
		if err != nil {
			return err
		}
		if !strings.Contains(keyword, "@") {
			return nil // not a full address: no private user to find
		}
		found, err := scanMatches(tx.QueryContext(ctx, private, viewerID, viewerID, NormalizeEmail(keyword), viewerID))
		if err != nil || len(found) == 0 {
			return err
		}
		i, _ := slices.BinarySearchFunc(out, found[0].User.ID, func(m UserMatch, id int64) int { return cmp.Compare(m.User.ID, id) })
		out = slices.Insert(out, i, found[0])
		if len(out) > MaxSearchResults {
			out = out[:MaxSearchResults]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	return out, nil
}

func scanMatches(rows *sql.Rows, err error) ([]UserMatch, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UserMatch
	for rows.Next() {
		var m UserMatch
		if m.User, err = scanUser(rowWith(rows, &m.IsFriend, &m.AddedMe)); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// likeEscaper makes a string match itself in a LIKE pattern with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// prefixed qualifies each column of a userColumns-style list with table
// alias t, for queries that join users to tables with columns of the same
// names. A column inside a function call is qualified inside its parentheses.
func prefixed(t, columns string) string {
	var cols []string
	depth, start := 0, 0
	for i, c := range columns + "," {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				cols = append(cols, strings.TrimSpace(columns[start:i]))
				start = i + 1
			}
		}
	}
	for i, c := range cols {
		if open := strings.IndexByte(c, '('); open >= 0 {
			cols[i] = c[:open+1] + t + "." + c[open+1:]
		} else {
			cols[i] = t + "." + c
		}
	}
	return strings.Join(cols, ", ")
}

// rowWith scans a row whose leading columns are a user's and whose trailing
// ones go to extra, so scanUser can read joined rows.
func rowWith(rows *sql.Rows, extra ...any) scanner {
	return scanFunc(func(dest ...any) error { return rows.Scan(append(dest, extra...)...) })
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
