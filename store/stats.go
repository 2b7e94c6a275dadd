package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Counts are the sizes of a community, as its admins see them.
type Counts struct {
	Users    int
	Admins   int
	Posts    int
	Rooms    int
	Messages int
}

// Counts counts users, admins, posts, rooms and chat messages in one read,
// so the figures agree with each other. Posts come from the count the
// triggers keep; the rest are counted, which on a Pi takes milliseconds per
// hundred thousand rows: fine for a page only admins open.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.rdb.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM users),
		(SELECT count(*) FROM users WHERE is_admin = 1),
		(SELECT n FROM post_count),
		(SELECT count(*) FROM chat_rooms),
		(SELECT count(*) FROM chat_messages)`).Scan(&c.Users, &c.Admins, &c.Posts, &c.Rooms, &c.Messages)
	if err != nil {
		return c, fmt.Errorf("counts: %w", err)
	}
	return c, nil
}

// DiskSize is how many bytes the database takes on disk: the file plus its
// write-ahead log, which together are the whole backup.
func (s *Store) DiskSize() (int64, error) {
	var total int64
	for _, p := range []string{s.path, s.path + "-wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // no WAL between a clean stop and the first write
		}
		if err != nil {
			return 0, fmt.Errorf("database size: %w", err)
		}
		total += fi.Size()
	}
	return total, nil
}
