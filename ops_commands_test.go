package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	_ "modernc.org/sqlite"

	"maru/store"
)

// schemaVersion reads or, with set >= 0, sets the schema version of the
// database file at path, as a binary of another version would leave it.
func schemaVersion(t *testing.T, path string, set int) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if set >= 0 {
		if _, err := db.Exec(`PRAGMA user_version = ` + strconv.Itoa(set)); err != nil {
			t.Fatal(err)
		}
	}
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// backup and make-admin act only on a database of their own schema
// version: one a server of another version may be running on is refused
// and left exactly as it was, never migrated.
func TestOperatorCommandsRefuseAnotherSchema(t *testing.T) {
	dir := t.TempDir()
	base, stop, done, _ := startApp(t, dir)
	register(t, base, "boss@example.com")
	stop()
	done()
	db := filepath.Join(dir, "app.db")
	current := schemaVersion(t, db, -1)

	for _, v := range []int{current - 1, current + 1} {
		schemaVersion(t, db, v)
		before := fileHash(t, db)
		dst := filepath.Join(t.TempDir(), "backup.db")
		commands := [][]string{
			{"backup", "-data", dir, dst},
			{"make-admin", "-data", dir, "boss@example.com"},
		}
		for _, args := range commands {
			err := run(context.Background(), args, noEnv, nil, io.Discard, io.Discard)
			if !errors.Is(err, store.ErrSchemaMismatch) {
				t.Fatalf("%s on a file at version %d (this maru: %d): %v, want a schema mismatch", args[0], v, current, err)
			}
			if got := schemaVersion(t, db, -1); got != v {
				t.Fatalf("%s moved the schema from %d to %d", args[0], v, got)
			}
			if fileHash(t, db) != before {
				t.Fatalf("%s changed the database file", args[0])
			}
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a refused backup left a file behind: %v", err)
		}
	}
}

// A backup only reads the database (the file is byte for byte the same
// afterwards) and its copy is readable by its owner alone.
func TestBackupReadsOnlyAndIsPrivate(t *testing.T) {
	dir := t.TempDir()
	base, stop, done, _ := startApp(t, dir)
	register(t, base, "kept@example.com")
	stop()
	done()
	db := filepath.Join(dir, "app.db")
	before := fileHash(t, db)

	dst := filepath.Join(t.TempDir(), "backup.db")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"backup", "-data", dir, dst}, noEnv, nil, &out, io.Discard); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if fileHash(t, db) != before {
		t.Fatal("backup changed the database file")
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("backup file mode %o, want 600", mode)
	}
	st, err := store.Open(context.Background(), dst, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.UserByEmail(context.Background(), "kept@example.com"); err != nil {
		t.Fatalf("backup lacks the user: %v", err)
	}
}
