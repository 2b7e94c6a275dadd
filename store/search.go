package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// searchQuery is a search turned into FTS5 queries. Terms of three
// characters or more go to the trigram index, which finds them anywhere,
// inside words too; shorter ones go to the word index as prefixes, which
// finds the words they begin (Korean "제목" finds "제목은").
//
// The trigram index keeps no positions (migration 011), so it finds the
// posts that hold every trigram of a term, anywhere; those of a term longer
// than three characters are then checked for the term itself (long).
type searchQuery struct {
	tri, word string   // FTS5 MATCH expressions; "" when there is no such term
	long      []string // lowercased terms of four characters or more
	none      bool     // the search can match nothing
	terms     []string // lowercased strings every match contains (termsOf)
	short     bool     // has a term of one or two characters
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
		if n := utf8.RuneCountInString(t); n >= 3 {
			tri = appendTrigrams(tri, t)
			sq.terms = append(sq.terms, termsOf(t, false)...)
			if n > 3 {
				sq.long = append(sq.long, key)
			}
			continue
		}
		quoted := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		// The word index keeps letters and digits only; a short term
		// without any (a lone "%" or "-") cannot be looked up, and is
		// passed over like punctuation in a search engine.
		if strings.IndexFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) < 0 {
			short++
			continue
		}
		word = append(word, quoted+"*")
		sq.terms = append(sq.terms, termsOf(t, true)...)
		sq.short = true
	}
	sq.tri, sq.word = strings.Join(tri, " "), strings.Join(word, " ")
	sq.none = sq.tri == "" && sq.word == "" && short > 0
	return sq, nil
}

// appendTrigrams appends to tri each run of three characters of t as an
// FTS5 string, once: one token of the trigram index each.
func appendTrigrams(tri []string, t string) []string {
	var at [3]int // byte offsets of the last three runes
	n := 0
	for i := range t {
		at[0], at[1], at[2] = at[1], at[2], i
		if n++; n < 3 {
			continue
		}
		_, size := utf8.DecodeRuneInString(t[i:])
		g := `"` + strings.ReplaceAll(t[at[0]:i+size], `"`, `""`) + `"`
		if !slices.Contains(tri, g) {
			tri = append(tri, g)
		}
	}
	return tri
}

// containsFunc is the SQL function contains_terms(title, content, tags,
// terms): whether each of terms (lowercased, joined by newlines) is in one
// of the three columns, ignoring case. A term holds no white space, so it
// cannot run from one column or tag into the next.
const containsFunc = "contains_terms"

func containsTerms(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	var text [3]string
	for i := range text {
		text[i], _ = args[i].(string)
	}
	terms, _ := args[3].(string)
	for term := range strings.SplitSeq(terms, "\n") {
		if !containsLower(text[0], term) && !containsLower(text[1], term) && !containsLower(text[2], term) {
			return int64(0), nil
		}
	}
	return int64(1), nil
}

// containsLower reports whether strings.ToLower(s) contains term, which is
// lowercased already, without making the lowercased copy: it runs for every
// post a search looks at.
func containsLower(s, term string) bool {
	if term == "" {
		return true
	}
	first, _ := utf8.DecodeRuneInString(term)
	for i, r := range s {
		if unicode.ToLower(r) == first && hasLowerPrefix(s[i:], term) {
			return true
		}
	}
	return false
}

// hasLowerPrefix reports whether strings.ToLower(s) begins with term.
func hasLowerPrefix(s, term string) bool {
	for _, want := range term {
		r, size := utf8.DecodeRuneInString(s)
		if size == 0 || unicode.ToLower(r) != want {
			return false
		}
		s = s[size:]
	}
	return true
}

func init() { sqlite.MustRegisterDeterministicScalarFunction(containsFunc, 4, containsTerms) }

// listQuery is the FROM, WHERE and ORDER BY of a filtered list, with the
// column that names a post's id.
type listQuery struct {
	from, id, order string
	where           []string
	args            []any
	// word is a word-index query that a search's posts must match too,
	// or "": a list of its posts is built per statement, so a count in
	// ranges of ids asks for the range's part of it only (sql, params).
	word string
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
		if len(sq.long) > 0 {
			q.where = append(q.where, "EXISTS (SELECT 1 FROM posts p WHERE p.id = posts_tri.rowid AND "+
				containsFunc+"(p.title, p.content, p.tags, ?))")
			q.args = append(q.args, strings.Join(sq.long, "\n"))
		}
		q.word = sq.word
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

// sql is the statement selecting sel from the posts of q, and with ranged
// only those with ids in a range (params gives its bounds).
func (q listQuery) sql(sel string, ranged bool) string {
	where := q.where[:len(q.where):len(q.where)]
	if q.word != "" {
		sub := "+" + q.id + " IN (SELECT rowid FROM posts_word WHERE posts_word MATCH ?"
		if ranged {
			sub += " AND rowid > ? AND rowid <= ?"
		}
		where = append(where, sub+")")
	}
	if ranged {
		where = append(where, q.id+" > ? AND "+q.id+" <= ?")
	}
	s := "SELECT " + sel + " FROM " + q.from
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	return s
}

// params are the arguments of q.sql, with the range (lo, hi] if ranged.
func (q listQuery) params(ranged bool, lo, hi int64) []any {
	args := slices.Clone(q.args)
	if q.word != "" {
		args = append(args, q.word)
		if ranged {
			args = append(args, lo, hi)
		}
	}
	if ranged {
		args = append(args, lo, hi)
	}
	return args
}

// A search's total is counted newest posts first, in ranges of ids that
// grow as it goes; once it has found maxExactTotal matches or spent
// searchCountBudget (Store.exactTotal and countBudget), the rest is
// estimated from the part counted, so that a very common word cannot make
// one request count for long. Totals are computed once per search and kept
// until a post it may match changes.
const (
	maxExactTotal     = 10_000
	searchCountBudget = 25 * time.Millisecond
)

// countPosts counts the posts q selects: the unfiltered list from the
// counter its triggers keep, a search as above, the rest exactly.
func (s *Store) countPosts(ctx context.Context, q listQuery, search bool) (totalEntry, error) {
	if len(q.where) == 0 {
		var n int
		if err := s.rdb.QueryRowContext(ctx, `SELECT n FROM post_count`).Scan(&n); err != nil {
			return totalEntry{}, fmt.Errorf("count posts: %w", err)
		}
		return totalEntry{n: n, exact: true}, nil
	}
	if !search {
		var n int
		if err := s.rdb.QueryRowContext(ctx, q.sql("count(*)", false), q.params(false, 0, 0)...).Scan(&n); err != nil {
			return totalEntry{}, fmt.Errorf("count posts: %w", err)
		}
		return totalEntry{n: n, exact: true}, nil
	}
	var top int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM posts`).Scan(&top); err != nil {
		return totalEntry{}, fmt.Errorf("count posts: %w", err)
	}
	start := time.Now()
	countSQL := q.sql("count(*)", true)
	n, hi, step := 0, top, max(top/64, 64)
	for hi > 0 {
		lo := max(hi-step, 0)
		var c int
		if err := s.rdb.QueryRowContext(ctx, countSQL, q.params(true, lo, hi)...).Scan(&c); err != nil {
			return totalEntry{}, fmt.Errorf("count posts: %w", err)
		}
		n, hi = n+c, lo
		spent := time.Since(start)
		if hi > 0 && (n >= s.exactTotal || spent > s.countBudget) {
			// The ids not counted match as often as those counted.
			return totalEntry{n: n + int(float64(n)*float64(hi)/float64(top-hi)), exact: false, top: top}, nil
		}
		// The next range doubles, but no further than the time left is
		// likely to count at the pace so far, so that the last range does
		// not run far past the budget.
		step *= 2
		if spent > 0 {
			perID := float64(spent) / float64(top-hi)
			step = min(step, max(int64(float64(s.countBudget-spent)/perID), 64))
		}
	}
	return totalEntry{n: n, exact: true, top: top}, nil
}

// pageIDs returns the ids of the posts on one page of q, newest first.
func (s *Store) pageIDs(ctx context.Context, q listQuery, f PostFilter) ([]int64, error) {
	args := append(q.params(false, 0, 0), f.PageSize, (f.Page-1)*f.PageSize)
	rows, err := s.rdb.QueryContext(ctx, q.sql(q.id, false)+" ORDER BY "+q.order+" LIMIT ? OFFSET ?", args...)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, f.PageSize)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list posts: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	return ids, nil
}
