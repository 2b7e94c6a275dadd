package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on posts, in characters (runes).
const (
	MaxTitleLen   = 200
	MaxContentLen = 50_000
	MaxTags       = 10
	MaxTagLen     = 30
)

// Post is one entry of the board.
type Post struct {
	ID         int64
	Title      string
	Content    string
	Tags       []string // trimmed, unique ignoring case, in the order given
	CategoryID int64    // 0 when uncategorized
	Author     Author
	Hit        int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Rev names one load of the post from the database: two Posts with the
	// same ID and Rev hold the same data but for Hit, so a cache of what
	// was made from one (such as its JSON) can be used for the other.
	Rev uint64
}

// Author is the part of a user that a post shows.
type Author struct {
	ID       int64
	Email    string
	Nickname string
}

// NewPost is what writing a post asks for.
type NewPost struct {
	AuthorID   int64
	Title      string
	Content    string
	Tags       []string
	CategoryID int64 // 0: none
}

// PostUpdate is a partial update of a post: nil fields keep their value.
type PostUpdate struct {
	Title   *string
	Content *string
	Tags    *[]string // replaces the whole set when not nil
	// SetCategory says whether CategoryID applies; CategoryID 0 clears it.
	SetCategory bool
	CategoryID  int64
}

const postColumns = `p.id, p.title, p.content, p.tags, COALESCE(p.category_id, 0), COALESCE((SELECT h.hit FROM post_hits h WHERE h.post_id = p.id), 0), p.created_at, p.updated_at,
	u.id, u.email, u.nickname`

const postFrom = ` FROM posts p JOIN users u ON u.id = p.author_id`

// postStmts are prepared once: parsing SQL costs more than running these
// statements. The write ones belong to the single writer connection and
// join a transaction through tx.StmtContext.
type postStmts struct {
	byID        *sql.Stmt // reader pool
	wByID       *sql.Stmt
	insert      *sql.Stmt
	insertTag   *sql.Stmt
	lastTime    *sql.Stmt
	hasCategory *sql.Stmt
	// The full-text index queue (migration 008), emptied at every commit.
	queued, indexTri, indexWord, unqueue *sql.Stmt
}

func (s *Store) preparePosts(ctx context.Context) error {
	ps := &s.postStmts
	for _, p := range []struct {
		db   *sql.DB
		dst  **sql.Stmt
		text string
	}{
		{s.rdb, &ps.byID, `SELECT ` + postColumns + postFrom + ` WHERE p.id = ?`},
		{s.wdb, &ps.wByID, `SELECT ` + postColumns + postFrom + ` WHERE p.id = ?`},
		{s.wdb, &ps.insert, `INSERT INTO posts (author_id, category_id, title, content, tags, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{s.wdb, &ps.insertTag, `INSERT INTO post_tags (key, post_id) VALUES (?, ?)`},
		{s.wdb, &ps.lastTime, `SELECT COALESCE(MAX(created_at), 0) FROM posts`},
		{s.wdb, &ps.hasCategory, `SELECT 1 FROM categories WHERE id = ?`},
		{s.wdb, &ps.queued, `SELECT EXISTS (SELECT 1 FROM posts_index_queue)`},
		{s.wdb, &ps.indexTri, `INSERT INTO posts_tri (posts_tri, rowid, title, content, tags)
			SELECT command, post_id, title, content, tags FROM posts_index_queue ORDER BY seq`},
		{s.wdb, &ps.indexWord, `INSERT INTO posts_word (posts_word, rowid, title, content, tags)
			SELECT command, post_id, title, content, tags FROM posts_index_queue ORDER BY seq`},
		{s.wdb, &ps.unqueue, `DELETE FROM posts_index_queue`},
	} {
		st, err := p.db.PrepareContext(ctx, p.text)
		if err != nil {
			return err
		}
		*p.dst = st
	}
	return nil
}

func (ps *postStmts) close() {
	for _, st := range []*sql.Stmt{ps.byID, ps.wByID, ps.insert, ps.insertTag, ps.lastTime, ps.hasCategory,
		ps.queued, ps.indexTri, ps.indexWord, ps.unqueue} {
		if st != nil {
			st.Close()
		}
	}
}

func scanPost(row scanner) (*Post, error) {
	var p Post
	var tags string
	var created, updated int64
	err := row.Scan(&p.ID, &p.Title, &p.Content, &tags, &p.CategoryID, &p.Hit, &created, &updated,
		&p.Author.ID, &p.Author.Email, &p.Author.Nickname)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p.Tags = splitTags(tags)
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

// Tags are stored joined by newlines, which a tag may not contain.
func joinTags(tags []string) string { return strings.Join(tags, "\n") }

func splitTags(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

// PostByID loads one post without counting a hit; Hit includes the hits
// still counted in memory.
func (s *Store) PostByID(ctx context.Context, id int64) (*Post, error) {
	return s.readPost(ctx, id, false)
}

// ViewPost loads a post and counts one hit on it. The returned Hit includes
// this view and every view before it, flushed or not.
func (s *Store) ViewPost(ctx context.Context, id int64) (*Post, error) {
	return s.readPost(ctx, id, true)
}

// readPost serves a post from memory while it is unchanged, else from the
// database, counting a view if view is set.
func (s *Store) readPost(ctx context.Context, id int64, view bool) (*Post, error) {
	p, epoch := s.hits.cached(id, view)
	if p != nil {
		return p, nil
	}
	p, err := s.postByIDRaw(ctx, id)
	if err != nil {
		return nil, err
	}
	if c, ok := s.hits.loaded(p, epoch, view); ok {
		return c, nil
	}
	if !view {
		p.Hit = s.hits.current(p.ID, p.Hit)
		return p, nil
	}
	p.Hit, err = s.hits.viewStored(id, func() (int64, error) {
		var stored int64
		err := s.rdb.QueryRowContext(ctx, `SELECT COALESCE(h.hit, 0) FROM posts p LEFT JOIN post_hits h ON h.post_id = p.id WHERE p.id = ?`, id).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNotFound
		}
		if err != nil {
			return 0, fmt.Errorf("post %d hit: %w", id, err)
		}
		return stored, nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// postsByIDs returns the posts named by ids, in that order, from memory
// where it holds them unchanged and from the database for the rest. Posts
// deleted meanwhile are left out.
func (s *Store) postsByIDs(ctx context.Context, ids []int64) ([]*Post, error) {
	out := make([]*Post, len(ids))
	var missing []int64
	var epochs []uint64
	for i, id := range ids {
		var epoch uint64
		if out[i], epoch = s.hits.cached(id, false); out[i] == nil {
			missing = append(missing, id)
			epochs = append(epochs, epoch)
		}
	}
	if len(missing) > 0 {
		loaded, err := s.loadPosts(ctx, missing)
		if err != nil {
			return nil, err
		}
		byID := make(map[int64]*Post, len(loaded))
		for _, p := range loaded {
			byID[p.ID] = p
		}
		for i, id := range missing {
			p := byID[id]
			if p == nil {
				continue
			}
			if c, ok := s.hits.loaded(p, epochs[i], false); ok {
				p = c
			} else {
				p.Hit = s.hits.current(p.ID, p.Hit)
			}
			byID[id] = p
		}
		for i, id := range ids {
			if out[i] == nil {
				out[i] = byID[id]
			}
		}
	}
	return slices.DeleteFunc(out, func(p *Post) bool { return p == nil }), nil
}

// loadPosts reads the posts named by ids from the database, in no order.
func (s *Store) loadPosts(ctx context.Context, ids []int64) ([]*Post, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	ph := strings.Repeat(",?", len(ids))[1:]
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+postColumns+postFrom+` WHERE p.id IN (`+ph+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("load posts: %w", err)
	}
	defer rows.Close()
	var out []*Post
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, fmt.Errorf("load posts: %w", err)
		}
		p.Rev = s.postRev.Add(1)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load posts: %w", err)
	}
	return out, nil
}

// postByIDRaw loads a post with the hit count its row holds.
func (s *Store) postByIDRaw(ctx context.Context, id int64) (*Post, error) {
	p, err := scanPost(s.postStmts.byID.QueryRowContext(ctx, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("post %d: %w", id, err)
	}
	if p != nil {
		p.Rev = s.postRev.Add(1)
	}
	return p, err
}

func (s *Store) postByIDTx(ctx context.Context, tx *sql.Tx, id int64) (*Post, error) {
	p, err := scanPost(tx.StmtContext(ctx, s.postStmts.wByID).QueryRowContext(ctx, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("post %d: %w", id, err)
	}
	if p != nil {
		p.Rev = s.postRev.Add(1)
	}
	return p, err
}

// cleanTitle trims and checks a title.
func cleanTitle(v *ValidationError, title string) string {
	title = strings.TrimSpace(title)
	if title == "" {
		v.Add("title", "This field may not be blank.")
		return title
	}
	checkText(v, "title", title, MaxTitleLen)
	if strings.ContainsAny(title, "\n\t") && !v.Has("title") {
		v.Add("title", "This field may not contain line breaks or tabs.")
	}
	return title
}

// cleanContent trims and checks the body of a post.
func cleanContent(v *ValidationError, content string) string {
	// Browsers and Windows clients send CRLF line ends; one form is kept.
	content = strings.ReplaceAll(content, "\r\n", "\n")
	content = strings.TrimSpace(strings.ReplaceAll(content, "\r", "\n"))
	if content == "" {
		v.Add("content", "This field may not be blank.")
		return content
	}
	checkText(v, "content", content, MaxContentLen)
	return content
}

// CleanTags trims tag names and drops repeats that differ only in case,
// keeping the first spelling, and checks what remains.
func CleanTags(v *ValidationError, tags []string) []string {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	blank, long, ctrl := false, false, false
	for _, t := range tags {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			blank = true
			continue
		case utf8.RuneCountInString(t) > MaxTagLen:
			long = true
		case !utf8.ValidString(t) || strings.IndexFunc(t, unicode.IsControl) >= 0:
			ctrl = true
		}
		key := tagKey(t)
		if !seen[key] {
			seen[key] = true
			out = append(out, t)
		}
	}
	if blank {
		v.Add("tags", "Tag names may not be blank.")
	}
	if long {
		v.Add("tags", fmt.Sprintf("Ensure every tag has no more than %d characters.", MaxTagLen))
	}
	if ctrl {
		v.Add("tags", "Tag names may not contain control characters.")
	}
	if len(out) > MaxTags {
		v.Add("tags", fmt.Sprintf("Ensure this field has no more than %d elements.", MaxTags))
	}
	return out
}

// tagKey is the form in which tags compare: case does not matter.
func tagKey(name string) string { return strings.ToLower(name) }

func (s *Store) checkCategory(ctx context.Context, tx *sql.Tx, id int64) error {
	if id == 0 {
		return nil
	}
	var one int
	err := tx.StmtContext(ctx, s.postStmts.hasCategory).QueryRowContext(ctx, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return Invalid("category", fmt.Sprintf("Invalid pk \"%d\" - object does not exist.", id))
	}
	if err != nil {
		return fmt.Errorf("check category: %w", err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (s *Store) setTags(ctx context.Context, tx *sql.Tx, postID int64, tags []string, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM post_tags WHERE post_id = ?`, postID); err != nil {
			return fmt.Errorf("delete tags: %w", err)
		}
	}
	ins := tx.StmtContext(ctx, s.postStmts.insertTag)
	for _, t := range tags {
		if _, err := ins.ExecContext(ctx, tagKey(t), postID); err != nil {
			return fmt.Errorf("insert tag: %w", err)
		}
	}
	return nil
}

// CreatePost validates np and stores it as a new post by np.AuthorID.
func (s *Store) CreatePost(ctx context.Context, np NewPost) (*Post, error) {
	v := new(ValidationError)
	np.Title = cleanTitle(v, np.Title)
	np.Content = cleanContent(v, np.Content)
	np.Tags = CleanTags(v, np.Tags)
	if np.CategoryID < 0 {
		v.Add("category", fmt.Sprintf("Invalid pk \"%d\" - object does not exist.", np.CategoryID))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// What the board cache needs of the post is known now: work it out
	// before the single writer's turn rather than during it.
	facts := factsOf(&Post{Title: np.Title, Content: np.Content, Tags: np.Tags, CategoryID: np.CategoryID})
	var p *Post
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.checkCategory(ctx, tx, np.CategoryID); err != nil {
			return err
		}
		// created_at never goes backwards, even when the clock does, so
		// that newest-first by time and by id are the same order: the
		// search pages by id, the list by time.
		var last int64
		if err := tx.StmtContext(ctx, s.postStmts.lastTime).QueryRowContext(ctx).Scan(&last); err != nil {
			return fmt.Errorf("last post time: %w", err)
		}
		now := max(micros(s.now()), last)
		res, err := tx.StmtContext(ctx, s.postStmts.insert).ExecContext(ctx,
			np.AuthorID, nullID(np.CategoryID), np.Title, np.Content, joinTags(np.Tags), now, now)
		if err != nil {
			return fmt.Errorf("insert post: %w", err)
		}
		id, _ := res.LastInsertId()
		if err := s.setTags(ctx, tx, id, np.Tags, false); err != nil {
			return err
		}
		if p, err = s.postByIDTx(ctx, tx, id); err != nil {
			return err
		}
		s.boardChanged(boardChange{id: id, new: facts})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UpdatePost validates up and applies it to post id in one transaction.
func (s *Store) UpdatePost(ctx context.Context, id int64, up PostUpdate) (*Post, error) {
	v := new(ValidationError)
	if up.Title != nil {
		t := cleanTitle(v, *up.Title)
		up.Title = &t
	}
	if up.Content != nil {
		c := cleanContent(v, *up.Content)
		up.Content = &c
	}
	if up.Tags != nil {
		t := CleanTags(v, *up.Tags)
		up.Tags = &t
	}
	if up.SetCategory && up.CategoryID < 0 {
		v.Add("category", fmt.Sprintf("Invalid pk \"%d\" - object does not exist.", up.CategoryID))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var p *Post
	err := s.write(ctx, func(tx *sql.Tx) error {
		old, err := s.postByIDTx(ctx, tx, id)
		if err != nil {
			return err
		}
		before := factsOf(old)
		if up.Title != nil {
			old.Title = *up.Title
		}
		if up.Content != nil {
			old.Content = *up.Content
		}
		if up.Tags != nil {
			old.Tags = *up.Tags
		}
		if up.SetCategory {
			if err := s.checkCategory(ctx, tx, up.CategoryID); err != nil {
				return err
			}
			old.CategoryID = up.CategoryID
		}
		now := max(micros(s.now()), micros(old.CreatedAt))
		_, err = tx.ExecContext(ctx,
			`UPDATE posts SET title = ?, content = ?, tags = ?, category_id = ?, updated_at = ? WHERE id = ?`,
			old.Title, old.Content, joinTags(old.Tags), nullID(old.CategoryID), now, id)
		if err != nil {
			return fmt.Errorf("update post: %w", err)
		}
		if up.Tags != nil {
			if err := s.setTags(ctx, tx, id, old.Tags, true); err != nil {
				return err
			}
		}
		if p, err = s.postByIDTx(ctx, tx, id); err != nil {
			return err
		}
		s.boardChanged(boardChange{id: id, old: before, new: factsOf(p)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Hit = s.hits.current(p.ID, p.Hit)
	return p, nil
}

// DeletePost deletes post id with its tags; the search indexes follow by
// trigger.
func (s *Store) DeletePost(ctx context.Context, id int64) error { return s.deletePost(ctx, nil, id) }

// RemovePost is DeletePost done by an admin to someone else's post: the
// audit log records it in the same transaction.
func (s *Store) RemovePost(ctx context.Context, admin *User, id int64) error {
	return s.deletePost(ctx, admin, id)
}

func (s *Store) deletePost(ctx context.Context, admin *User, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		old, err := s.postByIDTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM posts WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete post: %w", err)
		}
		s.boardChanged(boardChange{id: id, old: factsOf(old)})
		if admin == nil {
			return nil
		}
		return auditTx(ctx, tx, s.now(), admin, "post.delete", fmt.Sprintf("post %d “%s”", id, clip(old.Title, auditClip)),
			"by "+old.Author.Email)
	})
}

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
	// Estimated: Total is an estimate (a search with very many matches).
	Estimated bool
}

// countKey is the part of a filter that decides the total.
type countKey struct {
	search   string
	category int64
	tag      string
}

func (f PostFilter) countKey() countKey {
	return countKey{search: f.Search, category: f.CategoryID, tag: f.Tag}
}

// ListPosts returns one page of the posts that pass f, newest first, and
// how many pass in all. A page past the end is empty, not an error. Pages
// and totals are served from memory until a write changes them (board.go);
// hit counts are always current.
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
	q, m := f.query(sq), newFilterMatch(f, sq)
	// What is computed is kept for other readers: the request that happens
	// to compute it going away must not cut it short.
	bg := context.WithoutCancel(ctx)
	total, err := s.board.total(f.countKey(), m, func() (totalEntry, error) {
		t, err := s.countPosts(bg, q, f.Search != "")
		t.m = m
		return t, err
	})
	if err != nil {
		return nil, err
	}
	page := &PostPage{Posts: []*Post{}, Total: total.n, Estimated: !total.exact}
	// Checked before multiplying, so no page number can overflow. An
	// estimate may be short: pages up to twice as far are looked at.
	last := (total.n + f.PageSize - 1) / f.PageSize
	if !total.exact {
		last *= 2
	}
	if f.Page-1 >= last {
		return page, nil
	}
	pe, err := s.board.page(f, m, func() (pageEntry, error) {
		ids, err := s.pageIDs(bg, q, f)
		return pageEntry{ids: ids, m: m}, err
	})
	if err != nil {
		return nil, err
	}
	if page.Posts, err = s.postsByIDs(ctx, pe.ids); err != nil {
		return nil, err
	}
	return page, nil
}

// PostsByAuthor returns how many posts authorID has written and the newest
// limit of them, newest first: what a profile shows.
func (s *Store) PostsByAuthor(ctx context.Context, authorID int64, limit int) ([]*Post, int, error) {
	var total int
	var ids []int64
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM posts WHERE author_id = ?`, authorID).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM posts WHERE author_id = ? ORDER BY id DESC LIMIT ?`, authorID, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("posts by %d: %w", authorID, err)
	}
	posts, err := s.postsByIDs(ctx, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("posts by %d: %w", authorID, err)
	}
	return posts, total, nil
}
