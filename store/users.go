package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Limits on account fields, in characters (runes).
const (
	MaxEmailLen    = 254
	MinPasswordLen = 8
	MaxPasswordLen = 72 // bcrypt reads no further; longer would silently be ignored
	MaxNicknameLen = 50
	MaxContactLen  = 30
	MaxStatusLen   = 200
)

// User is an account together with its profile: the two are one to one.
type User struct {
	ID            int64
	Email         string
	PasswordHash  string
	Nickname      string
	ContactNumber string
	Status        string
	IsPrivate     bool
	IsAdmin       bool
	PictureID     int64  // 0 when the user has no picture
	PictureKey    string // the picture's random key, in its URL; "" when none
	CreatedAt     time.Time
	// AuthEpoch moves on when the user's password changes: a browser
	// session from an earlier epoch is over.
	AuthEpoch int64
	// Disabled: the user may not log in or act; their content stays.
	Disabled bool
	// Deleted: the account was closed; only this empty row remains, so that
	// its posts and messages keep an author.
	Deleted bool
}

const userColumns = `id, email, password_hash, nickname, contact_number, status, is_private, is_admin, COALESCE(picture_id, 0), picture_key, created_at,
	auth_epoch, disabled_at IS NOT NULL, deleted_at IS NOT NULL`

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner) (*User, error) {
	var u User
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Nickname, &u.ContactNumber, &u.Status,
		&u.IsPrivate, &u.IsAdmin, &u.PictureID, &u.PictureKey, &created, &u.AuthEpoch, &u.Disabled, &u.Deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	return &u, nil
}

func micros(t time.Time) int64      { return t.UnixMicro() }
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// NewUser is what registration asks for.
type NewUser struct {
	Email    string
	Password string
	Nickname string // optional: the part of the email before '@' when empty
	// Invite, when RequireInvite is set, must be a usable invite code; one
	// use of it is spent with the account, or none when the sign-up fails.
	Invite        string
	RequireInvite bool
}

// NormalizeEmail trims an address and lowercases its domain, the part that is
// case-insensitive by standard; uniqueness ignores case altogether.
func NormalizeEmail(email string) string {
	email = strings.TrimSpace(email)
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		email = email[:at] + strings.ToLower(email[at:])
	}
	return email
}

// ValidEmail reports whether s is a plain address (no display name).
func ValidEmail(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > MaxEmailLen || strings.ContainsAny(s, " \t\r\n<>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func validatePassword(v *ValidationError, password, email string) {
	switch {
	case password == "":
		v.Add("password", "This field may not be blank.")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		v.Add("password", fmt.Sprintf("This password is too short. It must contain at least %d characters.", MinPasswordLen))
	case len(password) > MaxPasswordLen:
		v.Add("password", fmt.Sprintf("This password is too long. It must contain at most %d bytes.", MaxPasswordLen))
	}
	if password != "" && strings.IndexFunc(password, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		v.Add("password", "This password is entirely numeric.")
	}
	if password != "" && strings.EqualFold(password, email) {
		v.Add("password", "The password is too similar to the email.")
	}
}

func errEmailTaken() error {
	return Invalid("email", "A user is already registered with this e-mail address.")
}

// CreateUser validates nu, hashes the password and stores the new account.
// A taken email (in any case) is a ValidationError on "email".
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	email := NormalizeEmail(nu.Email)
	nickname := strings.TrimSpace(nu.Nickname)
	v := new(ValidationError)
	switch {
	case email == "":
		v.Add("email", "This field may not be blank.")
	case !ValidEmail(email):
		v.Add("email", "Enter a valid email address.")
	}
	validatePassword(v, nu.Password, email)
	if nickname == "" && v.Err() == nil {
		nickname = email[:strings.LastIndexByte(email, '@')]
		if r := []rune(nickname); len(r) > MaxNicknameLen {
			nickname = string(r[:MaxNicknameLen])
		}
	}
	checkText(v, "nickname", nickname, MaxNicknameLen)
	if nu.RequireInvite && strings.TrimSpace(nu.Invite) == "" {
		v.Add("invite", "This field is required.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// A taken address is found before the costly hash; the unique index
	// still decides a race between two registrations of one address.
	var taken bool
	if err := s.rdb.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = ?)`, email).Scan(&taken); err != nil {
		return nil, fmt.Errorf("check email: %w", err)
	}
	if taken {
		return nil, errEmailTaken()
	}
	hash, err := s.hashPassword(ctx, nu.Password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	var u *User
	err = s.write(ctx, func(tx *sql.Tx) error {
		if nu.RequireInvite {
			if err := useInvite(ctx, tx, nu.Invite, s.now()); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO users (email, password_hash, nickname, created_at) VALUES (?, ?, ?, ?)`,
			email, string(hash), nickname, micros(s.now()))
		if isUniqueViolation(err) {
			return errEmailTaken()
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		id, _ := res.LastInsertId()
		u, err = userByID(ctx, tx, id)
		return err
	})
	return u, err
}

func (s *Store) hashPassword(ctx context.Context, password string) (hash []byte, err error) {
	if herr := s.hash.do(ctx, func() {
		hash, err = bcrypt.GenerateFromPassword([]byte(password), s.bcryptCost())
	}); herr != nil {
		return nil, herr
	}
	return hash, err
}

// checkPassword reports whether password matches hash.
func (s *Store) checkPassword(ctx context.Context, hash []byte, password string) (ok bool, err error) {
	err = s.hash.do(ctx, func() {
		ok = bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	})
	return ok, err
}

func (s *Store) bcryptCost() int {
	if s.opt.BcryptCost != 0 {
		return s.opt.BcryptCost
	}
	return bcrypt.DefaultCost
}

// Authenticate returns the user whose email and password match, or
// ErrInvalidCredentials.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*User, error) {
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		// Compare anyway, so that a login takes as long for a missing
		// account as for a wrong password.
		// A busy hasher answers alike for every email, too.
		if _, err := s.checkPassword(ctx, s.dummyHash(), password); err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.checkPassword(ctx, []byte(u.PasswordHash), password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	if u.Disabled {
		return nil, ErrAccountDisabled
	}
	return u, nil
}

// UserByID loads one user.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(s.stmtUserByID.QueryRowContext(ctx, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, err
}

func userByID(ctx context.Context, tx *sql.Tx, id int64) (*User, error) {
	return scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// UserByEmail loads one user by email, ignoring case.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, NormalizeEmail(email)))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("user by email: %w", err)
	}
	return u, err
}

// SetAdmin grants or withdraws the admin role of the user with email.
func (s *Store) SetAdmin(ctx context.Context, email string, admin bool) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET is_admin = ? WHERE email = ?`, admin, NormalizeEmail(email))
		if err != nil {
			return fmt.Errorf("set admin: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// ProfileUpdate is a partial update of a profile: nil fields keep their value.
type ProfileUpdate struct {
	Nickname      *string
	ContactNumber *string
	Status        *string
	IsPrivate     *bool
	// Picture, when set, replaces the picture; RemovePicture clears it.
	Picture       *Picture
	RemovePicture bool
}

// Picture is a profile picture, already re-encoded by the caller.
type Picture struct {
	ID          int64
	Key         string // random, in the picture's URL
	UserID      int64
	ContentType string
	Data        []byte
	CreatedAt   time.Time
}

func validContact(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9') && !strings.ContainsRune("+-() .", r)
	}) < 0
}

// UpdateProfile validates and applies up to the user's profile in one
// transaction: either every field changes or none does.
func (s *Store) UpdateProfile(ctx context.Context, userID int64, up ProfileUpdate) (*User, error) {
	v := new(ValidationError)
	if up.Nickname != nil {
		n := strings.TrimSpace(*up.Nickname)
		up.Nickname = &n
		if n == "" {
			v.Add("nickname", "This field may not be blank.")
		}
		checkText(v, "nickname", n, MaxNicknameLen)
	}
	if up.ContactNumber != nil {
		c := strings.TrimSpace(*up.ContactNumber)
		up.ContactNumber = &c
		if utf8.RuneCountInString(c) > MaxContactLen {
			v.Add("contact_number", fmt.Sprintf("Ensure this field has no more than %d characters.", MaxContactLen))
		} else if !validContact(c) {
			v.Add("contact_number", "Enter a valid phone number: digits, spaces and + - ( ) only.")
		}
	}
	if up.Status != nil {
		st := strings.TrimSpace(*up.Status)
		up.Status = &st
		checkText(v, "status", st, MaxStatusLen)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var u *User
	err := s.write(ctx, func(tx *sql.Tx) error {
		old, err := userByID(ctx, tx, userID)
		if err != nil {
			return err
		}
		if up.Nickname != nil && *up.Nickname != old.Nickname {
			old.Nickname = *up.Nickname
			s.boardChanged(boardChange{author: userID}) // posts show it
		}
		if up.ContactNumber != nil {
			old.ContactNumber = *up.ContactNumber
		}
		if up.Status != nil {
			old.Status = *up.Status
		}
		if up.IsPrivate != nil {
			old.IsPrivate = *up.IsPrivate
		}
		oldPicture := old.PictureID
		if up.Picture != nil {
			key := newPictureKey()
			res, err := tx.ExecContext(ctx,
				`INSERT INTO pictures (user_id, content_type, data, created_at, key) VALUES (?, ?, ?, ?, ?)`,
				userID, up.Picture.ContentType, up.Picture.Data, micros(s.now()), key)
			if err != nil {
				return fmt.Errorf("insert picture: %w", err)
			}
			old.PictureID, _ = res.LastInsertId()
			old.PictureKey = key
		} else if up.RemovePicture {
			old.PictureID, old.PictureKey = 0, ""
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE users SET nickname = ?, contact_number = ?, status = ?, is_private = ?,
			 picture_id = NULLIF(?, 0), picture_key = ? WHERE id = ?`,
			old.Nickname, old.ContactNumber, old.Status, old.IsPrivate, old.PictureID, old.PictureKey, userID)
		if err != nil {
			return fmt.Errorf("update profile: %w", err)
		}
		if oldPicture != 0 && oldPicture != old.PictureID {
			if _, err := tx.ExecContext(ctx, `DELETE FROM pictures WHERE id = ?`, oldPicture); err != nil {
				return fmt.Errorf("delete old picture: %w", err)
			}
		}
		u = old
		return nil
	})
	return u, err
}

// newPictureKey makes the key a picture is served under: 128 random bits
// in hex, so that nobody can guess another user's picture URL.
func newPictureKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// PictureByKey loads the stored picture with the given key.
func (s *Store) PictureByKey(ctx context.Context, key string) (*Picture, error) {
	var p Picture
	var created int64
	err := s.rdb.QueryRowContext(ctx, `SELECT id, user_id, content_type, data, created_at, key FROM pictures WHERE key = ?`, key).
		Scan(&p.ID, &p.UserID, &p.ContentType, &p.Data, &created, &p.Key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("picture: %w", err)
	}
	p.CreatedAt = fromMicros(created)
	return &p, nil
}

// PictureByID loads a stored picture.
func (s *Store) PictureByID(ctx context.Context, id int64) (*Picture, error) {
	var p Picture
	var created int64
	err := s.rdb.QueryRowContext(ctx, `SELECT id, user_id, content_type, data, created_at, key FROM pictures WHERE id = ?`, id).
		Scan(&p.ID, &p.UserID, &p.ContentType, &p.Data, &created, &p.Key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("picture %d: %w", id, err)
	}
	p.CreatedAt = fromMicros(created)
	return &p, nil
}

// ErrLastAdmin means a change would leave the community without an admin
// who can act: one neither disabled nor closed.
var ErrLastAdmin = errors.New("the last admin cannot stop being one")

// MaxAdminSearchResults caps one search of the admin page.
const MaxAdminSearchResults = 50

// AdminSearchUsers finds users whose email contains keyword, ignoring case,
// private ones included (admins manage every account), in the order they
// registered, at most MaxAdminSearchResults. An empty keyword lists the
// admins. Characters such as % and _ match themselves. Closed accounts are
// left out: nothing can be done to them.
func (s *Store) AdminSearchUsers(ctx context.Context, keyword string) ([]*User, error) {
	keyword = strings.TrimSpace(keyword)
	where, arg := `is_admin = 1 AND ? = ''`, any("")
	if keyword != "" {
		var err error
		if keyword, err = NormalizeKeyword(keyword); err != nil {
			return nil, err
		}
		where, arg = `email LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(keyword)+"%"
	}
	return s.listUsers(ctx, "admin search users", `(`+where+`) AND deleted_at IS NULL`, `id`, arg)
}

// DisabledUsers lists the disabled accounts, the most recently disabled
// first, at most MaxAdminSearchResults.
func (s *Store) DisabledUsers(ctx context.Context) ([]*User, error) {
	return s.listUsers(ctx, "disabled users", `disabled_at IS NOT NULL AND deleted_at IS NULL AND ? = ''`, `disabled_at DESC, id`, "")
}

// listUsers runs one of the admin page's lists: where and order are SQL of
// the callers above, never of a request; arg fills the one placeholder.
func (s *Store) listUsers(ctx context.Context, what, where, order string, arg any) ([]*User, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where+` ORDER BY `+order+` LIMIT ?`,
		arg, MaxAdminSearchResults)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// auditUser is how the audit log names a user.
func auditUser(u *User) string { return fmt.Sprintf("user %d (%s)", u.ID, u.Email) }

// keepsAnAdmin fails with ErrLastAdmin when u is an admin who can act and
// no other such admin exists: taking u's role away, or disabling u, would
// leave nobody to run the community. It runs inside the write that makes
// the change, so two admins demoting each other at once cannot both win.
func keepsAnAdmin(ctx context.Context, tx *sql.Tx, u *User) error {
	if !u.IsAdmin || u.Disabled || u.Deleted {
		return nil
	}
	var others int
	err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM users WHERE is_admin = 1 AND disabled_at IS NULL AND deleted_at IS NULL AND id != ?`, u.ID).Scan(&others)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// SetAdminByID grants or withdraws the admin role of user id on behalf of
// actor (nil: the operator) and returns the user as changed; the audit log
// records it in the same transaction. Withdrawing it from the last admin
// who can act fails with ErrLastAdmin. A closed account is ErrNotFound.
func (s *Store) SetAdminByID(ctx context.Context, actor *User, id int64, admin bool) (*User, error) {
	var u *User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = userByID(ctx, tx, id); err != nil {
			return err
		}
		if u.Deleted {
			return ErrNotFound
		}
		if u.IsAdmin == admin {
			return nil
		}
		action := "user.make_admin"
		if !admin {
			if err := keepsAnAdmin(ctx, tx, u); err != nil {
				return err
			}
			action = "user.remove_admin"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET is_admin = ? WHERE id = ?`, admin, id); err != nil {
			return fmt.Errorf("set admin: %w", err)
		}
		u.IsAdmin = admin
		return auditTx(ctx, tx, s.now(), actor, action, auditUser(u), "")
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// SetDisabled disables (disabled true) or enables again user id on behalf
// of actor, and returns the user as changed; the audit log records it in
// the same transaction. A disabled user keeps their content but cannot log
// in or act. Disabling also ends every login of theirs for good: refresh
// tokens are revoked and the auth epoch moves on, which voids browser
// sessions, access tokens and reset links issued before, so that enabling
// the account again does not bring them back. Disabling the last admin
// who can act fails with ErrLastAdmin; a closed account is ErrNotFound. A
// user already in the state asked for is returned unchanged, unrecorded.
func (s *Store) SetDisabled(ctx context.Context, actor *User, id int64, disabled bool) (*User, error) {
	var u *User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = userByID(ctx, tx, id); err != nil {
			return err
		}
		if u.Deleted {
			return ErrNotFound
		}
		if u.Disabled == disabled {
			return nil
		}
		now := s.now()
		action := "user.enable"
		if disabled {
			if err := keepsAnAdmin(ctx, tx, u); err != nil {
				return err
			}
			action = "user.disable"
			if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ?, auth_epoch = auth_epoch + 1 WHERE id = ?`, micros(now), id); err != nil {
				return fmt.Errorf("disable user: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, micros(now), id); err != nil {
				return fmt.Errorf("revoke refresh tokens: %w", err)
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = NULL WHERE id = ?`, id); err != nil {
			return fmt.Errorf("enable user: %w", err)
		}
		if u, err = userByID(ctx, tx, id); err != nil {
			return err
		}
		return auditTx(ctx, tx, now, actor, action, auditUser(u), "")
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
