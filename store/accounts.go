package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The life of an account beyond signing up: changing and resetting the
// password, and closing the account.

// ErrAccountDisabled means the credentials were right but an admin has
// disabled the account.
var ErrAccountDisabled = errors.New("account disabled")

// DeletedNickname is what a closed account's row says in place of a
// nickname, so that its posts and messages stay "by deleted user".
const DeletedNickname = "deleted user"

// Messages of the password checks, in Django's words where it has them.
const (
	msgWrongOldPassword = "Your old password was entered incorrectly. Please enter it again."
	msgWrongPassword    = "The password is not correct."
	msgResetInvalid     = "This password reset link is invalid, used or expired."
	msgLastAdmin        = "You are the last admin: make another user admin first."
)

// newPassword validates password for the account with email and reports
// the problems under field (the API's name for it differs by route).
func newPassword(v *ValidationError, field, password, email string) {
	tmp := new(ValidationError)
	validatePassword(tmp, password, email)
	for _, m := range tmp.Fields["password"] {
		v.Add(field, m)
	}
}

// ChangePassword sets a new password after checking the old one. Every
// refresh token of the user but keepRefresh (the caller's own, "" for none)
// is revoked, and the user's auth epoch moves on, which ends every browser
// session begun before; the caller renews its own session with the returned
// user's epoch.
func (s *Store) ChangePassword(ctx context.Context, userID int64, oldPassword, newPass, keepRefresh string) (*User, error) {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	v := new(ValidationError)
	if oldPassword == "" {
		v.Add("old_password", "This field may not be blank.")
	}
	newPassword(v, "new_password", newPass, u.Email)
	if err := v.Err(); err != nil {
		return nil, err
	}
	ok, err := s.checkPassword(ctx, []byte(u.PasswordHash), oldPassword)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Invalid("old_password", msgWrongOldPassword)
	}
	return s.replacePassword(ctx, u, newPass, keepRefresh)
}

// SetPassword gives a user a new password without the old one, as the
// operator's set-password command does: every refresh token, browser
// session and reset link of theirs ends.
func (s *Store) SetPassword(ctx context.Context, userID int64, newPass string) (*User, error) {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.Deleted {
		return nil, ErrNotFound
	}
	v := new(ValidationError)
	newPassword(v, "password", newPass, u.Email)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.replacePassword(ctx, u, newPass, "")
}

func (s *Store) replacePassword(ctx context.Context, u *User, newPass, keepRefresh string) (*User, error) {
	hash, err := s.hashPassword(ctx, newPass)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	var out *User
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := setPasswordTx(ctx, tx, u.ID, hash, keepRefresh, s.now()); err != nil {
			return err
		}
		out, err = userByID(ctx, tx, u.ID)
		return err
	})
	return out, err
}

// setPasswordTx stores a password hash, moves the auth epoch on (ending
// older sessions and reset links) and revokes the refresh tokens but keep.
func setPasswordTx(ctx context.Context, tx *sql.Tx, userID int64, hash []byte, keep string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, auth_epoch = auth_epoch + 1 WHERE id = ?`,
		string(hash), userID); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND jti != ?`,
		micros(now), userID, keep); err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	return nil
}

// PasswordResetTTL is how long a reset link works.
const PasswordResetTTL = 24 * time.Hour

// CreatePasswordReset issues a one-time reset secret for userID on behalf
// of the admin actorID. Only its hash is stored: the secret is returned
// once, for the link.
func (s *Store) CreatePasswordReset(ctx context.Context, userID, actorID int64) (secret string, expires time.Time, err error) {
	b := make([]byte, 24)
	rand.Read(b)
	secret = base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	expires = now.Add(PasswordResetTTL)
	err = s.write(ctx, func(tx *sql.Tx) error {
		u, err := userByID(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Deleted {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO password_resets (token_hash, user_id, auth_epoch, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			hashSecret(secret), userID, u.AuthEpoch, nullID(actorID), micros(now), micros(expires))
		if err != nil {
			return fmt.Errorf("create reset: %w", err)
		}
		return nil
	})
	return secret, expires, err
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// passwordResetUser finds the user a live reset secret is for: not used,
// not expired, and issued in the user's current auth epoch.
func passwordResetUser(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, secret string, now time.Time) (*User, error) {
	var id int64
	err := q.QueryRowContext(ctx,
		`SELECT r.user_id FROM password_resets r JOIN users u ON u.id = r.user_id
		 WHERE r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > ? AND r.auth_epoch = u.auth_epoch AND u.deleted_at IS NULL`,
		hashSecret(secret), micros(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Invalid("token", msgResetInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("find reset: %w", err)
	}
	return &User{ID: id}, nil
}

// PasswordResetUser returns the user a reset secret is for, when it still
// works, or a ValidationError on "token".
func (s *Store) PasswordResetUser(ctx context.Context, secret string) (*User, error) {
	u, err := passwordResetUser(ctx, s.rdb, secret, s.now())
	if err != nil {
		return nil, err
	}
	return s.UserByID(ctx, u.ID)
}

// ResetPassword sets a new password through a reset secret, once: the
// secret is spent, and like any password change this ends every other
// login of the user.
func (s *Store) ResetPassword(ctx context.Context, secret, newPass string) (*User, error) {
	u, err := s.PasswordResetUser(ctx, secret)
	if err != nil {
		return nil, err
	}
	v := new(ValidationError)
	newPassword(v, "password", newPass, u.Email)
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, newPass)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	var out *User
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Checked again inside the write: two uses at once spend it once.
		if _, err := passwordResetUser(ctx, tx, secret, s.now()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE token_hash = ?`,
			micros(s.now()), hashSecret(secret)); err != nil {
			return fmt.Errorf("spend reset: %w", err)
		}
		if err := setPasswordTx(ctx, tx, u.ID, hash, "", s.now()); err != nil {
			return err
		}
		out, err = userByID(ctx, tx, u.ID)
		return err
	})
	return out, err
}

// DeleteAccount closes userID's account after checking its password. The
// profile, picture, friend rows both ways, refresh tokens and reset links
// go; the row stays, empty, so that posts and messages keep an author
// ("deleted user") and the id is never reused. The email is free again at
// once, and a new account under it shares nothing with the old one.
func (s *Store) DeleteAccount(ctx context.Context, userID int64, password string) error {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if password == "" {
		return Invalid("password", "This field may not be blank.")
	}
	ok, err := s.checkPassword(ctx, []byte(u.PasswordHash), password)
	if err != nil {
		return err
	}
	if !ok {
		return Invalid("password", msgWrongPassword)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := keepsAnAdmin(ctx, tx, u); errors.Is(err, ErrLastAdmin) {
			return Invalid("non_field_errors", msgLastAdmin)
		} else if err != nil {
			return err
		}
		steps := []struct{ sql, what string }{
			{`DELETE FROM friends WHERE user_id = ?1 OR friend_id = ?1`, "friends"},
			{`DELETE FROM refresh_tokens WHERE user_id = ?1`, "tokens"},
			{`DELETE FROM password_resets WHERE user_id = ?1`, "resets"},
			// Private first, so the email search index lets go of the address.
			{`UPDATE users SET is_private = 1 WHERE id = ?1`, "hide"},
			{`UPDATE users SET email = ?2, password_hash = '', nickname = ?3, contact_number = '', status = '',
				is_admin = 0, picture_id = NULL, picture_key = '', auth_epoch = auth_epoch + 1, deleted_at = ?4 WHERE id = ?1`, "empty"},
			{`DELETE FROM pictures WHERE user_id = ?1`, "pictures"},
		}
		for _, st := range steps {
			if _, err := tx.ExecContext(ctx, st.sql, userID, deletedEmail(userID), DeletedNickname, micros(s.now())); err != nil {
				return fmt.Errorf("delete account (%s): %w", st.what, err)
			}
		}
		s.boardChanged(boardChange{author: userID}) // its posts show the new name
		return nil
	})
}

// deletedEmail is the email column of a closed account: unique, and no
// address, so nobody can sign up with it or log in as it.
func deletedEmail(id int64) string { return "deleted-user-" + strconv.FormatInt(id, 10) }

// EachPostBy calls fn with every post userID wrote, oldest first, one at a
// time, so that an export of thousands holds one in memory.
func (s *Store) EachPostBy(ctx context.Context, userID int64, fn func(*Post) error) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+postColumns+postFrom+` WHERE p.author_id = ? ORDER BY p.id`, userID)
	if err != nil {
		return fmt.Errorf("posts by %d: %w", userID, err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return fmt.Errorf("posts by %d: %w", userID, err)
		}
		p.Hit = s.hits.current(p.ID, p.Hit)
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachMessageBy calls fn with every chat message userID sent, oldest first.
func (s *Store) EachMessageBy(ctx context.Context, userID int64, fn func(*Message) error) error {
	rows, err := s.rdb.QueryContext(ctx, messageSelect+` WHERE m.user_id = ? ORDER BY m.id`, userID)
	if err != nil {
		return fmt.Errorf("messages by %d: %w", userID, err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return fmt.Errorf("messages by %d: %w", userID, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return rows.Err()
}
