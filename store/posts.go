package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

const postColumns = `p.id, p.title, p.content, p.tags, COALESCE(p.category_id, 0), p.hit, p.created_at, p.updated_at,
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
	for _, st := range []*sql.Stmt{ps.byID, ps.wByID, ps.insert, ps.insertTag, ps.lastTime, ps.hasCategory} {
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
	p, err := s.postByIDRaw(ctx, id)
	if err != nil {
		return nil, err
	}
	p.Hit = s.hits.current(p.ID, p.Hit)
	return p, nil
}

// postByIDRaw loads a post with the hit count its row holds.
func (s *Store) postByIDRaw(ctx context.Context, id int64) (*Post, error) {
	p, err := scanPost(s.postStmts.byID.QueryRowContext(ctx, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("post %d: %w", id, err)
	}
	return p, err
}

func (s *Store) postByIDTx(ctx context.Context, tx *sql.Tx, id int64) (*Post, error) {
	p, err := scanPost(tx.StmtContext(ctx, s.postStmts.wByID).QueryRowContext(ctx, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("post %d: %w", id, err)
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
		p, err = s.postByIDTx(ctx, tx, id)
		return err
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
		p, err = s.postByIDTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.Hit = s.hits.current(p.ID, p.Hit)
	return p, nil
}

// DeletePost deletes post id with its tags; the search indexes follow by
// trigger.
func (s *Store) DeletePost(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM posts WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete post: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.hits.forget(id)
	return nil
}

// PostsByAuthor returns how many posts authorID has written and the newest
// limit of them, newest first: what a profile shows.
func (s *Store) PostsByAuthor(ctx context.Context, authorID int64, limit int) ([]*Post, int, error) {
	var posts []*Post
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM posts WHERE author_id = ?`, authorID).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM posts WHERE author_id = ? ORDER BY id DESC LIMIT ?`, authorID, limit)
		if err != nil {
			return err
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
			return err
		}
		posts, err = postsByIDs(ctx, tx, ids)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("posts by %d: %w", authorID, err)
	}
	return posts, total, nil
}
