package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Secret returns the named secret of n random bytes, creating it on first
// use. It lives in the database so that it survives restarts and backups.
func (s *Store) Secret(ctx context.Context, name string, n int) ([]byte, error) {
	var v []byte
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, name).Scan(&v)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		v = make([]byte, n)
		rand.Read(v)
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, name, v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return v, nil
}

// AddRefreshToken records a refresh token issued at a login, which is
// when the chain of its rotations starts.
func (s *Store) AddRefreshToken(ctx context.Context, jti string, userID int64, expires time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return addRefreshToken(ctx, tx, jti, userID, expires, s.now())
	})
}

func addRefreshToken(ctx context.Context, tx *sql.Tx, jti string, userID int64, expires, loginAt time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (jti, user_id, expires_at, login_at) VALUES (?, ?, ?, ?)`,
		jti, userID, micros(expires), micros(loginAt))
	if err != nil {
		return fmt.Errorf("add refresh token: %w", err)
	}
	return nil
}

// revokeRefreshToken marks jti of userID revoked, or returns ErrTokenRevoked
// if it is unknown, already revoked or expired.
func (s *Store) revokeRefreshToken(ctx context.Context, tx *sql.Tx, jti string, userID int64) error {
	res, err := tx.ExecContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = ? WHERE jti = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?`,
		micros(s.now()), jti, userID, micros(s.now()))
	if err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrTokenRevoked
	}
	return nil
}

// NextRefreshToken issues the successor of a refresh token being rotated.
// It gets the time of the login the chain started with, so that it can
// keep the chain within an absolute age, and returns the new token's id
// and expiry, or an error that cancels the rotation.
type NextRefreshToken func(loginAt time.Time) (jti string, expires time.Time, err error)

// RotateRefreshToken revokes oldJTI and records the successor that next
// issues, in one transaction, so a refresh token can be used exactly once.
//
// A token that rotation already replaced, shown again, means two parties
// hold the chain: the user and whoever copied the token. Since the server
// cannot tell which is which, every refresh token of the user is revoked
// (they log in again) and ErrTokenReused is returned.
func (s *Store) RotateRefreshToken(ctx context.Context, oldJTI string, userID int64, next NextRefreshToken) error {
	reused := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		reused = false // fn may run again, on a fresh transaction
		now := micros(s.now())
		var loginAt int64
		err := tx.QueryRowContext(ctx,
			`UPDATE refresh_tokens SET revoked_at = ?, rotated = 1
			 WHERE jti = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ? RETURNING login_at`,
			now, oldJTI, userID, now).Scan(&loginAt)
		if errors.Is(err, sql.ErrNoRows) {
			var rotated bool
			err := tx.QueryRowContext(ctx, `SELECT rotated FROM refresh_tokens WHERE jti = ? AND user_id = ?`,
				oldJTI, userID).Scan(&rotated)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && !rotated) {
				return ErrTokenRevoked
			}
			if err != nil {
				return fmt.Errorf("rotate refresh token: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
				now, userID); err != nil {
				return fmt.Errorf("revoke refresh tokens: %w", err)
			}
			reused = true
			return nil // commit the revocation; the caller gets ErrTokenReused
		}
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		jti, expires, err := next(fromMicros(loginAt))
		if err != nil {
			return err
		}
		return addRefreshToken(ctx, tx, jti, userID, expires, fromMicros(loginAt))
	})
	if err == nil && reused {
		return ErrTokenReused
	}
	return err
}

// RevokeRefreshToken revokes a refresh token of userID for good.
func (s *Store) RevokeRefreshToken(ctx context.Context, jti string, userID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return s.revokeRefreshToken(ctx, tx, jti, userID)
	})
}

// PurgeExpired deletes refresh tokens and browser sessions past their expiry.
// An expired token is refused by its own exp claim, so its row is no longer needed.
func (s *Store) PurgeExpired(ctx context.Context) error {
	now := micros(s.now())
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE expires_at <= ?`, now); err != nil {
			return fmt.Errorf("purge tokens: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= ?`, now); err != nil {
			return fmt.Errorf("purge sessions: %w", err)
		}
		return nil
	})
}
