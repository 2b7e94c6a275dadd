package store

import (
	"errors"
	"sort"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors of the store. Callers compare with errors.Is.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique constraint refused the change.
	ErrConflict = errors.New("conflict")
	// ErrInvalidCredentials means an email and password do not match a user.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrTokenRevoked means a refresh token was revoked, rotated or never issued.
	ErrTokenRevoked = errors.New("token revoked")
	// ErrTokenReused means a refresh token that rotation had already
	// replaced was presented again: every refresh token of its user has
	// been revoked.
	ErrTokenReused = errors.New("rotated refresh token reused")
)

// ValidationError carries messages per field, in the shape the API reports
// them: {"field": ["message", ...]}. General messages go under "non_field_errors".
type ValidationError struct {
	Fields map[string][]string
}

// Add records msg for field and returns v, so checks can be chained.
func (v *ValidationError) Add(field, msg string) *ValidationError {
	if v.Fields == nil {
		v.Fields = make(map[string][]string)
	}
	v.Fields[field] = append(v.Fields[field], msg)
	return v
}

// Has reports whether field already has a message.
func (v *ValidationError) Has(field string) bool { return len(v.Fields[field]) > 0 }

// Err returns v as an error if it holds any message, and nil otherwise.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Fields) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("invalid input:")
	for _, k := range keys {
		b.WriteString(" " + k + ": " + strings.Join(v.Fields[k], "; ") + ".")
	}
	return b.String()
}

// Invalid is a shorthand for a ValidationError with one message.
func Invalid(field, msg string) error {
	return new(ValidationError).Add(field, msg)
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate key.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
