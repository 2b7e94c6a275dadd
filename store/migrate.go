package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
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

// foreignKeysOff, as the first line of a migration, runs it with foreign
// keys off, as SQLite's recipe for rebuilding a table requires: with them
// on, dropping the old table would delete, through ON DELETE CASCADE,
// every row that refers to it. The pragma cannot change inside a
// transaction, so it is set around it, and a foreign_key_check before the
// commit refuses a migration that left a reference dangling.
const foreignKeysOff = "-- maru:foreign-keys-off"

// migrate applies migrations[current:upto], each in its own transaction
// together with the user_version bump, so a crash leaves the file at a
// version it really has. A file newer than this binary is refused.
func migrate(ctx context.Context, db *sql.DB, upto int) error {
	// One connection throughout: the foreign_keys pragma is per connection.
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	var current int
	if err := conn.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d): use a newer maru", current, len(migrations))
	}
	for i := current; i < upto; i++ {
		m := migrations[i]
		fkOff := strings.HasPrefix(m.sql, foreignKeysOff)
		if fkOff {
			if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		err := applyMigration(ctx, conn, i+1, m, fkOff)
		if fkOff {
			if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`); err != nil {
				conn.Raw(func(any) error { return driver.ErrBadConn }) // never reuse it without foreign keys
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// applyMigration runs m and sets the schema version to version in one
// transaction. checkKeys verifies every foreign key before committing.
func applyMigration(ctx context.Context, conn *sql.Conn, version int, m migration, checkKeys bool) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if checkKeys {
		var table string
		err := tx.QueryRowContext(ctx, `SELECT "table" FROM pragma_foreign_key_check`).Scan(&table)
		if err == nil {
			return fmt.Errorf("a row of %s refers to nothing", table)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, version)); err != nil {
		return err
	}
	return tx.Commit()
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
