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

// AddRefreshToken records a newly issued refresh token.
func (s *Store) AddRefreshToken(ctx context.Context, jti string, userID int64, expires time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return addRefreshToken(ctx, tx, jti, userID, expires)
	})
}

func addRefreshToken(ctx context.Context, tx *sql.Tx, jti string, userID int64, expires time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (jti, user_id, expires_at) VALUES (?, ?, ?)`,
		jti, userID, micros(expires))
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

// RotateRefreshToken revokes oldJTI and records newJTI in one transaction,
// so a refresh token can be used exactly once.
func (s *Store) RotateRefreshToken(ctx context.Context, oldJTI, newJTI string, userID int64, expires time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := s.revokeRefreshToken(ctx, tx, oldJTI, userID); err != nil {
			return err
		}
		return addRefreshToken(ctx, tx, newJTI, userID, expires)
	})
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
