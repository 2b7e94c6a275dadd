// Package store keeps everything maru knows in one SQLite file: schema
// migrations, typed queries and the domain types they load and save.
//
// The store never imports net/http; the web package talks to it only through
// the exported methods of *Store.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// Options tunes a Store. The zero value is what production uses.
type Options struct {
	// Now returns the current time; tests inject a fixed clock. Defaults to time.Now.
	Now func() time.Time
	// BcryptCost is the work factor of password hashes. Zero means bcrypt's
	// default; tests lower it to keep the suite fast.
	BcryptCost int
	// HashSlots is how many password hashes may run at once (zero: half
	// the cores, at least one); HashQueue how many more may wait for one
	// (zero: 16 per slot) before the store answers ErrBusy.
	HashSlots int
	HashQueue int
	// Readers caps the reader pool. Zero means 4, enough for a Pi's cores.
	Readers int
	// NoMigrate refuses a file whose schema is not exactly this binary's,
	// and a missing file, instead of migrating or creating it. Operator
	// commands use it: a server of another version may be running on the
	// file, and its schema is that server's business.
	NoMigrate bool
	// HitFlushInterval is how often hits counted in memory are written.
	// Zero means DefaultHitFlushInterval.
	HitFlushInterval time.Duration
}

// Store is maru's SQLite database: one writer connection and a small pool of
// read-only connections on the same file.
type Store struct {
	wdb  *sql.DB // exactly one connection: SQLite allows one writer at a time
	rdb  *sql.DB // query_only connections for everything that does not write
	path string
	opt  Options
	now  func() time.Time

	closeOnce sync.Once
	closeErr  error

	stmtUserByID *sql.Stmt
	postStmts    postStmts
	chatStmts    chatStmts
	dummyHash    func() []byte
	hash         *hasher

	writes  writeQueue    // writes waiting for a group commit
	writing *pendingWrite // the write whose fn the leader runs now

	board boardCache // list pages and totals, invalidated by what changed

	categories  atomic.Pointer[categoryList] // the categories, as last read
	categoryGen atomic.Uint64                // counts category changes
	// exactTotal and countBudget bound the counting of a search's total
	// (maxExactTotal, searchCountBudget); tests change them.
	exactTotal  int
	countBudget time.Duration
	postRev     atomic.Uint64 // the last Post.Rev handed out
	hits        *hitCounter   // hit counts and the posts being read
	ckpt        *checkpointer
	merge       merger     // merges the post indexes while the writer rests
	bg          background // how the background tasks fare (health.go)
}

// The pragmas live in the DSN rather than in an Exec after opening because
// database/sql opens connections lazily and at will: only the DSN reaches
// every one of them. The cache is kept small (2 MiB each) for a Pi.
//
// The writer commits with synchronous=FULL: the WAL reaches the disk before
// a commit returns, so a write acknowledged to anyone survives a power cut
// (NORMAL may lose the last commits). Group commit (write.go) keeps that
// flush to one per batch of writes.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	if readOnly {
		q.Add("_pragma", "synchronous(NORMAL)") // readers never write
	} else {
		q.Add("_pragma", "synchronous(FULL)")
	}
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "cache_size(-2000)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction
		// never fails half-way with SQLITE_BUSY when it upgrades to a writer.
		q.Set("_txlock", "immediate")
		// Checkpoints run in the background (checkpoint.go), not inside
		// whichever commit happens to fill the WAL.
		q.Add("_pragma", "wal_autocheckpoint(0)")
	}
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// Open opens (creating if needed) the database file at path, applies any
// pending migrations and returns a ready Store.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	return open(ctx, path, opt, len(migrations))
}

func open(ctx context.Context, path string, opt Options, upto int) (*Store, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Readers <= 0 {
		opt.Readers = 4
	}
	if opt.NoMigrate {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// The file holds password hashes and the token secret: create it
	// readable by its owner only. SQLite gives -wal and -shm the same mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create database file: %w", err)
	}
	wdb, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open writer: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	s := &Store{wdb: wdb, path: path, opt: opt, now: func() time.Time { return opt.Now().UTC() }}
	s.board.init()
	s.exactTotal, s.countBudget = maxExactTotal, searchCountBudget
	// Made on first use rather than at start-up: hashing costs tens of
	// milliseconds on a Pi, and most starts never see an unknown email.
	s.hash = newHasher(opt.HashSlots, opt.HashQueue)
	s.dummyHash = sync.OnceValue(func() []byte {
		h, _ := bcrypt.GenerateFromPassword([]byte("maru-no-such-user"), s.bcryptCost())
		return h
	})
	migrateOrCheck := migrate
	if opt.NoMigrate {
		migrateOrCheck = checkSchema
	}
	if err := migrateOrCheck(ctx, wdb, upto); err != nil {
		wdb.Close()
		return nil, err
	}

	rdb, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open readers: %w", err)
	}
	rdb.SetMaxOpenConns(opt.Readers)
	rdb.SetMaxIdleConns(opt.Readers)
	s.rdb = rdb
	if upto < len(migrations) {
		// A file held at an older schema (tests of upgrades do this) has
		// not the tables the statements and the hit writer need.
		return s, nil
	}

	if s.stmtUserByID, err = rdb.PrepareContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`); err != nil {
		s.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if err := s.preparePosts(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if err := s.prepareChat(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	// Posts written past the store (a bulk load) wait in the index queue
	// for the next commit: index them now.
	var queued bool
	if err := rdb.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM posts_index_queue)`).Scan(&queued); err != nil {
		s.Close()
		return nil, fmt.Errorf("index queue: %w", err)
	}
	if queued {
		if err := s.write(ctx, func(*sql.Tx) error { return nil }); err != nil {
			s.Close()
			return nil, err
		}
	}
	if opt.HitFlushInterval <= 0 {
		opt.HitFlushInterval = DefaultHitFlushInterval
	}
	s.hits = newHitCounter()
	go s.flushHitsEvery(opt.HitFlushInterval)
	if err := s.startCheckpoints(); err != nil {
		s.Close()
		return nil, err
	}
	if !opt.NoMigrate {
		s.startMerging()
	}
	return s, nil
}

// Close waits for nothing: callers stop using the store first; closing
// twice is harmless. It writes the
// hits still counted in memory, then checkpoints the WAL so that the main
// file alone is a complete copy after a clean stop.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	var errs []error
	s.stopMerging()
	if s.hits != nil {
		errs = append(errs, s.stopHits())
	}
	if s.ckpt != nil {
		errs = append(errs, s.stopCheckpoints())
	}
	if s.stmtUserByID != nil {
		s.stmtUserByID.Close()
	}
	s.postStmts.close()
	s.chatStmts.close()
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if _, err := s.wdb.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		errs = append(errs, fmt.Errorf("checkpoint: %w", err))
	}
	errs = append(errs, s.wdb.Close())
	return errors.Join(errs...)
}

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now() }

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.rdb.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// Backup writes a consistent copy of the store's database to dst (see
// the function Backup).
func (s *Store) Backup(ctx context.Context, dst string) error { return Backup(ctx, s.path, dst) }

// Backup writes a consistent copy of the database file at path to dst,
// which must not exist yet; it works while a server is running on the
// file. It only reads the database: it refuses a file whose schema is not
// exactly this binary's rather than migrate it, and never writes to it,
// not even a checkpoint. dst is created readable by its owner alone, since
// it holds password hashes and the token signing secret.
func Backup(ctx context.Context, path, dst string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// mode=ro: SQLite opens the file read-only, so nothing done here can
	// write to it. (query_only, the readers' guard, refuses VACUUM INTO.)
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := checkSchema(ctx, db, len(migrations)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO needs a file that is new or empty: creating it first,
	// exclusively, refuses an existing file and sets the mode.
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	// VACUUM INTO reads in one transaction, so the copy is consistent.
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		os.Remove(dst)
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// read runs fn in one read transaction, so that its queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}
