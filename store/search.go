package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Limits of a list request.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	MaxSearchLen    = 200 // characters
	MaxSearchTerms  = 10
)

// PostFilter selects and pages the board. Filters combine: a post must
// pass every one that is set.
type PostFilter struct {
	Search     string // words, each of which must occur in the title, content or tags
	CategoryID int64  // 0: any
	Tag        string // "": any; compared ignoring case
	Page       int    // from 1
	PageSize   int    // 1..MaxPageSize
}

// PostPage is one page of a list, with the number of posts on all pages.
type PostPage struct {
	Posts []*Post
	Total int
}

// searchQuery is a search turned into FTS5 queries. Terms of three
// characters or more go to the trigram index, which finds them anywhere,
// inside words too; shorter ones go to the word index as prefixes, which
// finds the words they begin (Korean "제목" finds "제목은").
type searchQuery struct {
	tri, word string // FTS5 MATCH expressions; "" when there is no such term
	none      bool   // the search can match nothing
}

// parseSearch splits q on white space. Each term becomes an FTS5 string,
// so that quotes, operators, '*', '%' and '_' are only ever characters.
func parseSearch(q string) (searchQuery, error) {
	var sq searchQuery
	if utf8.RuneCountInString(q) > MaxSearchLen {
		return sq, Invalid("search", fmt.Sprintf("Ensure this field has no more than %d characters.", MaxSearchLen))
	}
	if !utf8.ValidString(q) || strings.IndexFunc(q, func(r rune) bool { return unicode.IsControl(r) && !unicode.IsSpace(r) }) >= 0 {
		return sq, Invalid("search", "This field may not contain control characters.")
	}
	seen := map[string]bool{}
	var tri, word []string
	short := 0
	for _, t := range strings.Fields(q) {
		key := strings.ToLower(t)
		if seen[key] {
			continue
		}
		seen[key] = true
		if len(seen) > MaxSearchTerms {
			return sq, Invalid("search", fmt.Sprintf("Use at most %d words.", MaxSearchTerms))
		}
		quoted := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if utf8.RuneCountInString(t) >= 3 {
			tri = append(tri, quoted)
			continue
		}
		// The word index keeps letters and digits only; a short term
		// without any (a lone "%" or "-") cannot be looked up, and is
		// passed over like punctuation in a search engine.
		if strings.IndexFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) < 0 {
			short++
			continue
		}
		word = append(word, quoted+"*")
	}
	sq.tri, sq.word = strings.Join(tri, " "), strings.Join(word, " ")
	sq.none = sq.tri == "" && sq.word == "" && short > 0
	return sq, nil
}

// listQuery is the FROM, WHERE and ORDER BY of a filtered list, with the
// column that names a post's id.
type listQuery struct {
	from, id, order string
	where           []string
	args            []any
}

func (f PostFilter) query(sq searchQuery) listQuery {
	var q listQuery
	tag := f.Tag
	// The most selective index drives, newest first by id where it can: a
	// search or a tag stops reading after the page instead of sorting every
	// match. The other filters are checked per row; the unary + keeps SQLite
	// from turning "rowid IN (...)" into one index lookup per listed value.
	switch {
	case sq.tri != "":
		q = listQuery{from: "posts_tri", id: "posts_tri.rowid", order: "posts_tri.rowid DESC"}
		q.where = append(q.where, "posts_tri MATCH ?")
		q.args = append(q.args, sq.tri)
		if sq.word != "" {
			q.where = append(q.where, "+posts_tri.rowid IN (SELECT rowid FROM posts_word WHERE posts_word MATCH ?)")
			q.args = append(q.args, sq.word)
		}
	case sq.word != "":
		q = listQuery{from: "posts_word", id: "posts_word.rowid", order: "posts_word.rowid DESC"}
		q.where = append(q.where, "posts_word MATCH ?")
		q.args = append(q.args, sq.word)
	case f.Tag != "":
		q = listQuery{from: "post_tags", id: "post_tags.post_id", order: "post_tags.post_id DESC"}
		q.where = append(q.where, "post_tags.key = ?")
		q.args = append(q.args, tag)
	default:
		q = listQuery{from: "posts", id: "posts.id", order: "posts.created_at DESC, posts.id DESC"}
	}
	if f.CategoryID != 0 {
		if q.from == "posts" {
			q.where = append(q.where, "posts.category_id = ?")
		} else {
			q.where = append(q.where, "EXISTS (SELECT 1 FROM posts p WHERE p.id = "+q.id+" AND p.category_id = ?)")
		}
		q.args = append(q.args, f.CategoryID)
	}
	if f.Tag != "" && q.from != "post_tags" {
		q.where = append(q.where, "+"+q.id+" IN (SELECT post_id FROM post_tags WHERE key = ?)")
		q.args = append(q.args, tag)
	}
	return q
}

func (q listQuery) sql(sel string) string {
	s := "SELECT " + sel + " FROM " + q.from
	if len(q.where) > 0 {
		s += " WHERE " + strings.Join(q.where, " AND ")
	}
	return s
}

// ListPosts returns one page of the posts that pass f, newest first, and
// how many pass in all. A page past the end is empty, not an error.
// Repeated requests are served from memory until the next write.
func (s *Store) ListPosts(ctx context.Context, f PostFilter) (*PostPage, error) {
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PageSize < 1 {
		f.PageSize = DefaultPageSize
	}
	f.PageSize = min(f.PageSize, MaxPageSize)
	f.Search = strings.Join(strings.Fields(f.Search), " ")
	f.Tag = tagKey(strings.TrimSpace(f.Tag))
	sq, err := parseSearch(f.Search)
	if err != nil {
		return nil, err
	}
	// A tag longer than any stored one matches nothing; refusing it here
	// also keeps long strings out of the cache keys.
	if sq.none || f.CategoryID < 0 || utf8.RuneCountInString(f.Tag) > MaxTagLen {
		return &PostPage{Posts: []*Post{}}, nil
	}
	// Read the version before the data: entries stored under it are then
	// at least as new as it says.
	version := s.version.Load()
	cp, ok := s.posts.page(version, f)
	if !ok {
		if cp, err = s.listPosts(ctx, version, f, sq); err != nil {
			return nil, err
		}
		s.posts.putPage(version, f, cp)
	}
	page := &PostPage{Posts: make([]*Post, len(cp.posts)), Total: cp.total}
	for i, p := range cp.posts {
		c := *p
		c.Hit = s.hits.current(c.ID, c.Hit)
		page.Posts[i] = &c
	}
	return page, nil
}

func (s *Store) listPosts(ctx context.Context, version uint64, f PostFilter, sq searchQuery) (cachedPage, error) {
	q := f.query(sq)
	var page cachedPage
	// Counted before the page's transaction opens, so that counting in
	// parallel never waits for a connection while holding one. Count and
	// page may then straddle a write, as they would in two requests.
	total, ok := s.posts.count(version, f.countKey())
	if !ok {
		var err error
		if total, err = s.countPosts(ctx, q); err != nil {
			return page, err
		}
		s.posts.putCount(version, f.countKey(), total)
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		page.total = total
		// Checked before multiplying, so no page number can overflow.
		if f.Page-1 >= (total+f.PageSize-1)/f.PageSize {
			page.posts = []*Post{}
			return nil
		}
		args := append(q.args[:len(q.args):len(q.args)], f.PageSize, (f.Page-1)*f.PageSize)
		rows, err := tx.QueryContext(ctx, q.sql(q.id)+" ORDER BY "+q.order+" LIMIT ? OFFSET ?", args...)
		if err != nil {
			return fmt.Errorf("list posts: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list posts: %w", err)
		}
		page.posts, err = postsByIDs(ctx, tx, ids)
		return err
	})
	return page, err
}

// countPosts counts the posts q selects. A search counts every match, which
// for a common word is most of the cost of a cold search: the two halves of
// the id range are counted at once on two reader connections, since the
// full-text index seeks a rowid range at no cost.
func (s *Store) countPosts(ctx context.Context, q listQuery) (int, error) {
	if len(q.where) == 0 {
		var n int
		if err := s.rdb.QueryRowContext(ctx, `SELECT n FROM post_count`).Scan(&n); err != nil {
			return 0, fmt.Errorf("count posts: %w", err)
		}
		return n, nil
	}
	countSQL := q.sql("count(*)")
	if q.from == "posts" {
		var n int
		if err := s.rdb.QueryRowContext(ctx, countSQL, q.args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("count posts: %w", err)
		}
		return n, nil
	}
	var top int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM posts`).Scan(&top); err != nil {
		return 0, fmt.Errorf("count posts: %w", err)
	}
	mid := top / 2
	var counts [2]int
	var errs [2]error
	var wg sync.WaitGroup
	for i, cond := range []string{" AND " + q.id + " <= ?", " AND " + q.id + " > ?"} {
		wg.Go(func() {
			args := append(q.args[:len(q.args):len(q.args)], mid)
			errs[i] = s.rdb.QueryRowContext(ctx, countSQL+cond, args...).Scan(&counts[i])
		})
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return 0, fmt.Errorf("count posts: %w", err)
	}
	return counts[0] + counts[1], nil
}

// postsByIDs loads the posts named by ids, in that order.
func postsByIDs(ctx context.Context, tx *sql.Tx, ids []int64) ([]*Post, error) {
	if len(ids) == 0 {
		return []*Post{}, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	ph := strings.Repeat(",?", len(ids))[1:]
	rows, err := tx.QueryContext(ctx, `SELECT `+postColumns+postFrom+` WHERE p.id IN (`+ph+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("load posts: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64]*Post, len(ids))
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, fmt.Errorf("load posts: %w", err)
		}
		byID[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load posts: %w", err)
	}
	out := make([]*Post, 0, len(ids))
	for _, id := range ids {
		if p := byID[id]; p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}
