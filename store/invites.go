package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Invite is an invitation to sign up while sign-up is by invitation.
type Invite struct {
	ID        int64
	Code      string
	CreatedBy int64 // 0 when that admin is gone
	MaxUses   int
	Uses      int
	ExpiresAt time.Time // zero: never
	RevokedAt time.Time // zero: not revoked
	CreatedAt time.Time
}

// Usable reports whether the invite still lets someone sign up at now.
func (i *Invite) Usable(now time.Time) bool {
	return i.RevokedAt.IsZero() && i.Uses < i.MaxUses && (i.ExpiresAt.IsZero() || now.Before(i.ExpiresAt))
}

// Limits of an invite.
const (
	MaxInviteUses = 1000
	MaxInviteTTL  = 365 * 24 * time.Hour
	inviteCodeLen = 10
)

const msgInviteInvalid = "This invite code is not valid, used up or expired."

// inviteAlphabet leaves out letters that read alike (0/O, 1/I/L), since
// codes are read aloud and typed by hand.
const inviteAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

func newInviteCode() string {
	b := make([]byte, inviteCodeLen)
	rand.Read(b)
	for i := range b {
		b[i] = inviteAlphabet[int(b[i])%len(inviteAlphabet)]
	}
	return string(b)
}

// NormalizeInviteCode makes a code typed by hand comparable: trimmed, upper
// case, without the dashes or spaces people add.
func NormalizeInviteCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
}

// CreateInvite makes an invite for maxUses sign-ups, valid for ttl (0:
// until revoked), on behalf of the admin actorID.
func (s *Store) CreateInvite(ctx context.Context, actorID int64, maxUses int, ttl time.Duration) (*Invite, error) {
	v := new(ValidationError)
	if maxUses < 1 || maxUses > MaxInviteUses {
		v.Add("max_uses", fmt.Sprintf("Ensure this value is between 1 and %d.", MaxInviteUses))
	}
	if ttl < 0 || ttl > MaxInviteTTL {
		v.Add("expires_in_days", fmt.Sprintf("Ensure this value is between 0 and %d.", int(MaxInviteTTL/(24*time.Hour))))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var expires any
	if ttl > 0 {
		expires = micros(now.Add(ttl))
	}
	var inv *Invite
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO invites (code, created_by, max_uses, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			newInviteCode(), nullID(actorID), maxUses, expires, micros(now))
		if err != nil {
			return fmt.Errorf("create invite: %w", err)
		}
		id, _ := res.LastInsertId()
		inv, err = inviteByID(ctx, tx, id)
		return err
	})
	return inv, err
}

const inviteColumns = `id, code, COALESCE(created_by, 0), max_uses, uses, COALESCE(expires_at, 0), COALESCE(revoked_at, 0), created_at`

func scanInvite(row scanner) (*Invite, error) {
	var i Invite
	var expires, revoked, created int64
	err := row.Scan(&i.ID, &i.Code, &i.CreatedBy, &i.MaxUses, &i.Uses, &expires, &revoked, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if expires != 0 {
		i.ExpiresAt = fromMicros(expires)
	}
	if revoked != 0 {
		i.RevokedAt = fromMicros(revoked)
	}
	i.CreatedAt = fromMicros(created)
	return &i, nil
}

func inviteByID(ctx context.Context, tx *sql.Tx, id int64) (*Invite, error) {
	return scanInvite(tx.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invites WHERE id = ?`, id))
}

// MaxInviteList bounds the invite list: the newest this many.
const MaxInviteList = 200

// Invites lists the newest invites first.
func (s *Store) Invites(ctx context.Context) ([]Invite, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+inviteColumns+` FROM invites ORDER BY id DESC LIMIT ?`, MaxInviteList)
	if err != nil {
		return nil, fmt.Errorf("invites: %w", err)
	}
	defer rows.Close()
	var out []Invite
	for rows.Next() {
		i, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("invites: %w", err)
		}
		out = append(out, *i)
	}
	return out, rows.Err()
}

// RevokeInvite ends an invite; revoking one twice is ErrNotFound the
// second time, so a caller can tell.
func (s *Store) RevokeInvite(ctx context.Context, id int64) (*Invite, error) {
	var inv *Invite
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(s.now()), id)
		if err != nil {
			return fmt.Errorf("revoke invite: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		inv, err = inviteByID(ctx, tx, id)
		return err
	})
	return inv, err
}

// useInvite spends one use of code inside the transaction that creates the
// account, so a refused sign-up spends nothing and two sign-ups at once
// cannot both take the last use.
func useInvite(ctx context.Context, tx *sql.Tx, code string, now time.Time) error {
	res, err := tx.ExecContext(ctx,
		`UPDATE invites SET uses = uses + 1
		 WHERE code = ? AND revoked_at IS NULL AND uses < max_uses AND (expires_at IS NULL OR expires_at > ?)`,
		NormalizeInviteCode(code), micros(now))
	if err != nil {
		return fmt.Errorf("use invite: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Invalid("invite", msgInviteInvalid)
	}
	return nil
}
