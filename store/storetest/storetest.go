// Package storetest builds large databases for benchmarks. Only tests
// import it, so none of it is in the binary.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"maru/store"
)

// Words that every seeded post's text is drawn from, Korean and English.
var words = strings.Fields(`제목 내용 학생 게시 사진 여행 음식 회의 모임 질문 답변 후기 추천 정보 소식 일정 운동 영화 음악 독서
	title post release meeting golang server photo travel review question answer notes weekly board study music
	garden coffee bicycle library kitchen window market river mountain weather`)

// Common words: each is in about a third of the posts, for searches that
// match many rows.
const (
	CommonWord      = "update" // in the content of ~1/3 of the posts
	CommonShortWord = "공부"     // likewise, two characters
)

// BoardPosts is the size of the shared benchmark board.
const BoardPosts = 100_000

var shared struct {
	once sync.Once
	path string
	err  error
}

// SharedBoard returns the path of a board of BoardPosts posts, seeded at
// most once per test binary however many benchmarks ask for it.
func SharedBoard(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() { shared.path, shared.err = BenchDB(context.Background(), BoardPosts) })
	if shared.err != nil {
		tb.Fatalf("seed: %v", shared.err)
	}
	return shared.path
}

// Main runs a package's tests and benchmarks, then deletes the benchmark
// databases they built; a TestMain calls os.Exit(storetest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	RemoveBenchDBs()
	return code
}

// tempDirs are the directories BenchDB made, for RemoveBenchDBs.
var tempDirs []string

// RemoveBenchDBs deletes the databases BenchDB built in temporary
// directories; a TestMain calls it after the run.
func RemoveBenchDBs() {
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	tempDirs = nil
}

// BenchDB returns the path of a database seeded with n posts. It builds a
// new one in a temporary directory, or, when MARU_BENCH_DB names a file,
// reuses that file (seeding it first if it does not exist) so that
// repeated benchmark runs can skip the seeding.
func BenchDB(ctx context.Context, n int) (string, error) {
	if path := os.Getenv("MARU_BENCH_DB"); path != "" {
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
		_, err := SeedBoard(ctx, path, n)
		return path, err
	}
	dir, err := os.MkdirTemp("", "maru-bench-")
	if err != nil {
		return "", err
	}
	tempDirs = append(tempDirs, dir)
	path := filepath.Join(dir, "bench.db")
	_, err = SeedBoard(ctx, path, n)
	return path, err
}

// SeedBoard creates the database at path with one author and n posts of
// about 40 words and 3 tags each, in one transaction, in a few seconds.
// It returns the author's email.
func SeedBoard(ctx context.Context, path string, n int) (string, error) {
	st, err := store.Open(ctx, path, store.Options{BcryptCost: 4})
	if err != nil {
		return "", err
	}
	const email = "seed@example.com"
	u, err := st.CreateUser(ctx, store.NewUser{Email: email, Password: "seed password"})
	if err != nil {
		st.Close()
		return "", err
	}
	if _, err := st.CreateCategory(ctx, "seeded"); err != nil {
		st.Close()
		return "", err
	}
	if err := st.Close(); err != nil {
		return "", err
	}

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=foreign_keys(ON)")
	if err != nil {
		return "", err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	insPost, err := tx.PrepareContext(ctx, `INSERT INTO posts (author_id, category_id, title, content, tags, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return "", err
	}
	insHits, err := tx.PrepareContext(ctx, `INSERT INTO post_hits (post_id, hit) VALUES (?, ?)`)
	if err != nil {
		return "", err
	}
	insTag, err := tx.PrepareContext(ctx, `INSERT INTO post_tags (key, post_id) VALUES (?, ?)`)
	if err != nil {
		return "", err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(k int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = words[rng.IntN(len(words))]
		}
		return out
	}
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	for i := range n {
		title := strings.Join(pick(3+rng.IntN(3)), " ")
		body := pick(35)
		if rng.IntN(3) == 0 {
			body[rng.IntN(len(body))] = CommonWord
		}
		if rng.IntN(3) == 0 {
			body[rng.IntN(len(body))] = CommonShortWord
		}
		tags := []string{fmt.Sprint("tag", rng.IntN(30)), fmt.Sprint("tag", 30+rng.IntN(30)), fmt.Sprint("tag", 60+rng.IntN(30))}
		var cat any
		if i%2 == 0 {
			cat = 1
		}
		at := start + int64(i)*60_000_000
		res, err := insPost.ExecContext(ctx, 1, cat, title, strings.Join(body, " "), strings.Join(tags, "\n"), at, at)
		if err != nil {
			return "", err
		}
		id, _ := res.LastInsertId()
		if _, err := insHits.ExecContext(ctx, id, rng.IntN(100)); err != nil {
			return "", err
		}
		for _, t := range tags {
			if _, err := insTag.ExecContext(ctx, t, id); err != nil {
				return "", err
			}
		}
	}
	_ = u
	if err := tx.Commit(); err != nil {
		return "", err
	}
	// The store indexes the queued posts when it opens, as one segment at
	// the bottom level, where the first posts written after it would
	// merge it again. A board that had grown by its posts over months holds
	// its index merged: so should the seeded one.
	st, err = store.Open(ctx, path, store.Options{BcryptCost: 4})
	if err != nil {
		return "", err
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	for _, table := range []string{"posts_tri", "posts_word"} {
		if _, err := db.ExecContext(ctx, `INSERT INTO `+table+` (`+table+`) VALUES ('optimize')`); err != nil {
			return "", err
		}
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return email, err
}
