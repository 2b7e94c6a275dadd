package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations holds the embedded schema steps in order: migrations[i] brings
// a database from user_version i to i+1. A shipped file is never edited;
// a change to the schema is a new file with the next number.
var migrations = loadMigrations(migrationFS)

type migration struct {
	name string
	sql  string
}

func loadMigrations(fsys fs.FS) []migration {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	out := make([]migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		if n, err := strconv.Atoi(num); err != nil || n != i+1 {
			panic(fmt.Sprintf("migration %s: want number %03d", base, i+1))
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		out = append(out, migration{name: base, sql: string(b)})
	}
	return out
}

// migrate applies migrations[current:upto], each in its own transaction
// together with the user_version bump, so a crash leaves the file at a
// version it really has. A file newer than this binary is refused.
func migrate(ctx context.Context, db *sql.DB, upto int) error {
	var current int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d): use a newer maru", current, len(migrations))
	}
	for i := current; i < upto; i++ {
		m := migrations[i]
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// ErrSchemaMismatch means a database file's schema is not the one this
// binary has, and the caller asked not to migrate it.
var ErrSchemaMismatch = errors.New("database schema differs from this maru's")

// checkSchema is what opening without migrating does instead of migrate:
// it refuses a file whose schema version is not exactly want.
func checkSchema(ctx context.Context, db *sql.DB, want int) error {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v != want {
		return fmt.Errorf("%w: the file is at version %d, this maru at %d; "+
			"operator commands never change a schema: use the maru that matches the file, "+
			"or start this version's server on it once to upgrade it", ErrSchemaMismatch, v, want)
	}
	return nil
}

// SchemaVersion reports the schema version of the open file.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.rdb.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	return v, err
}
