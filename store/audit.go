package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuditEntry is one thing an admin (or the operator) did.
type AuditEntry struct {
	ID      int64
	At      time.Time
	ActorID int64  // 0 for the operator's commands, or an actor since gone
	Actor   string // the actor's email when it was done
	Action  string // e.g. "user.disable", "invite.create"
	Target  string // what it was done to, in words: "user 12 (ann@example.com)"
	Detail  string
}

// MaxAuditList bounds one page of the audit log.
const MaxAuditList = 200

// auditClip is how many characters of a name (a post's title, a room's
// name) the log keeps to say what was acted on. What people wrote is not
// copied in: a message removed for what it said should not live on here.
const auditClip = 60

// clip shortens s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Audit records an action. actor nil means the operator at the command line.
func (s *Store) Audit(ctx context.Context, actor *User, action, target, detail string) error {
	return s.write(ctx, func(tx *sql.Tx) error { return auditTx(ctx, tx, s.now(), actor, action, target, detail) })
}

// auditTx records an action inside the transaction that does it, so the
// log never shows what did not happen, nor misses what did.
func auditTx(ctx context.Context, tx *sql.Tx, now time.Time, actor *User, action, target, detail string) error {
	var id int64
	name := "operator"
	if actor != nil {
		id, name = actor.ID, actor.Email
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor_id, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		micros(now), nullID(id), name, action, target, detail)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditLog returns the newest entries first, at most limit (1..MaxAuditList)
// of those older than before (0: from the newest).
func (s *Store) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	limit = min(max(limit, 1), MaxAuditList)
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.rdb.QueryContext(ctx,
		`SELECT id, at, COALESCE(actor_id, 0), actor, action, target, detail FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`,
		before, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
