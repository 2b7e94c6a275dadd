package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"maru/store"
)

// postJSON is a post as the API shows it. post_id repeats id because the
// seed's detail response named it so.
type postJSON struct {
	ID        int64      `json:"id"`
	PostID    int64      `json:"post_id"`
	Title     string     `json:"title"`
	Content   string     `json:"content"`
	Tags      []tagJSON  `json:"tags"`
	Category  *int64     `json:"category"`
	Author    authorJSON `json:"author"`
	CreatedAt string     `json:"created_at"`
	UpdatedAt string     `json:"updated_at"`
	Hit       int64      `json:"hit"`
}

type tagJSON struct {
	Name string `json:"name"`
}

type authorJSON struct {
	ID       int64  `json:"id"`
	Email    string `json:"email"`
	Nickname string `json:"nickname"`
}

func toPostJSON(p *store.Post) postJSON {
	tags := make([]tagJSON, len(p.Tags))
	for i, t := range p.Tags {
		tags[i] = tagJSON{Name: t}
	}
	var cat *int64
	if p.CategoryID != 0 {
		c := p.CategoryID
		cat = &c
	}
	return postJSON{
		ID: p.ID, PostID: p.ID, Title: p.Title, Content: p.Content, Tags: tags, Category: cat,
		Author:    authorJSON{ID: p.Author.ID, Email: p.Author.Email, Nickname: p.Author.Nickname},
		CreatedAt: drfTime(p.CreatedAt), UpdatedAt: drfTime(p.UpdatedAt), Hit: p.Hit,
	}
}

// tagList accepts tags as names or as {"name": ...} objects, mixed even,
// since the seed's clients send the latter and simpler ones the former.
type tagList []string

func (t *tagList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return &fieldError{"tags", `Expected a list of items but got type "` + jsonKind(jsonType(b)) + `".`}
	}
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		var name string
		if err := json.Unmarshal(r, &name); err == nil {
			out = append(out, name)
			continue
		}
		var obj struct {
			Name *string `json:"name"`
		}
		if err := json.Unmarshal(r, &obj); err != nil || obj.Name == nil {
			return &fieldError{"tags", `Each tag must be a name or {"name": "..."}.`}
		}
		out = append(out, *obj.Name)
	}
	*t = out
	return nil
}

// optionalID is a nullable id field that remembers whether it was given:
// on edit, a missing "category" keeps the old one and null clears it.
type optionalID struct {
	set bool
	id  int64 // 0 for null
}

func (o *optionalID) UnmarshalJSON(b []byte) error {
	o.set = true
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		o.id = 0
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		b = []byte(s) // DRF takes "3" for 3 as well
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return &fieldError{"category", "Incorrect type. Expected pk value, received " + jsonKind(jsonType(b)) + "."}
	}
	if id <= 0 {
		return &fieldError{"category", `Invalid pk "` + strconv.FormatInt(id, 10) + `" - object does not exist.`}
	}
	o.id = id
	return nil
}

// jsonType names the JSON type of a raw value the way UnmarshalTypeError does.
func jsonType(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "string"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

type postRequest struct {
	Title    *string    `json:"title"`
	Content  *string    `json:"content"`
	Tags     *tagList   `json:"tags"`
	Category optionalID `json:"category"`
}

func (s *Server) handleWritePost(w http.ResponseWriter, r *http.Request) {
	var req postRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	v := new(store.ValidationError)
	required(v, map[string]*string{"title": req.Title, "content": req.Content})
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	np := store.NewPost{AuthorID: currentUser(r).ID, Title: *req.Title, Content: *req.Content, CategoryID: req.Category.id}
	if req.Tags != nil {
		np.Tags = *req.Tags
	}
	slot, err := s.postLimit.take(np.AuthorID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.store.CreatePost(r.Context(), np)
	if err != nil {
		slot.cancel()
		s.writeError(w, r, err)
		return
	}
	s.writePost(w, http.StatusCreated, p)
}

func (s *Server) handlePostDetail(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	view := s.store.ViewPost
	if r.Method == http.MethodHead {
		view = s.store.PostByID // a HEAD (a link preview, a crawler) is not a reader
	}
	// Anyone may ask for any post as often as they like: like a page,
	// what a post holds while it is answered comes out of the budget.
	res, err := s.responses.reserve(r.Context(), 3*maxPostBytes+streamChunk, s.budgetWait())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer res.release()
	p, err := view(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res.shrink(pageNeeds([]*store.Post{p}))
	s.writePost(w, http.StatusOK, p)
}

// ownPost loads the post the request names and checks that its user may
// change it: its author or an admin. Missing is 404 before anything else.
func (s *Server) ownPost(r *http.Request) (*store.Post, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	p, err := s.store.PostByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !canChangePost(currentUser(r), p) {
		return nil, errForbidden
	}
	return p, nil
}

// handleEditPostForm shows the post as stored, for an edit form; it counts
// no hit.
func (s *Server) handleEditPostForm(w http.ResponseWriter, r *http.Request) {
	p, err := s.ownPost(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writePost(w, http.StatusOK, p)
}

// handleEditPost is a partial update for POST, PUT and PATCH alike, as the
// seed's clients send any of them.
func (s *Server) handleEditPost(w http.ResponseWriter, r *http.Request) {
	p, err := s.ownPost(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req postRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	up := store.PostUpdate{Title: req.Title, Content: req.Content, SetCategory: req.Category.set, CategoryID: req.Category.id}
	if req.Tags != nil {
		tags := []string(*req.Tags)
		up.Tags = &tags
	}
	p, err = s.store.UpdatePost(r.Context(), p.ID, up)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writePost(w, http.StatusOK, p)
}

func (s *Server) handleDeletePost(w http.ResponseWriter, r *http.Request) {
	p, err := s.ownPost(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.deletePost(r, p); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"msg": "Post deleted"})
}

// listRequest is the optional JSON body of POST /api/post/, which the
// seed's clients use to search. Query parameters win over it.
type listRequest struct {
	Search   *string         `json:"search"`
	Category json.RawMessage `json:"category"`
	Tag      *string         `json:"tag"`
	Page     json.RawMessage `json:"page"`
	PageSize json.RawMessage `json:"page_size"`
}

// listParams gathers the list's parameters from the query and, for POST,
// the JSON body, as strings keyed like the query.
func (s *Server) listParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	q := r.URL.Query()
	if r.Method != http.MethodPost {
		return q, nil
	}
	var req listRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return nil, err
	}
	set := func(key string, v *string) {
		if v != nil && !q.Has(key) {
			q.Set(key, *v)
		}
	}
	raw := func(key string, m json.RawMessage) {
		if len(m) == 0 || string(m) == "null" || q.Has(key) {
			return
		}
		var str string
		if json.Unmarshal(m, &str) == nil {
			q.Set(key, str)
		} else {
			q.Set(key, string(m))
		}
	}
	set("search", req.Search)
	set("tag", req.Tag)
	raw("category", req.Category)
	raw("page", req.Page)
	raw("page_size", req.PageSize)
	return q, nil
}

func (s *Server) handleListPosts(w http.ResponseWriter, r *http.Request) {
	q, err := s.listParams(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := new(store.ValidationError)
	f := store.PostFilter{
		Search: strings.TrimSpace(q.Get("search")),
		Tag:    strings.TrimSpace(q.Get("tag")),
	}
	f.Page, f.PageSize = pageParams(v, q)
	if c := strings.TrimSpace(q.Get("category")); c != "" {
		id, ok := parseWhole(c) // past 64 bits, like any unknown id, it matches nothing
		switch {
		case !ok:
			v.Add("category", "A valid integer is required.")
		case id <= 0:
			f.CategoryID = -1 // names no category, so matches no post
		default:
			f.CategoryID = id
		}
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	// Reserve for the largest page this could be, then keep what it is.
	res, err := s.responses.reserve(r.Context(), int64(f.PageSize+2)*maxPostBytes+streamChunk, s.budgetWait())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer res.release()
	page, err := s.store.ListPosts(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res.shrink(pageNeeds(page.Posts))
	keep := []string{"search", "category", "tag"}
	s.setPageHeaders(w, "/api/post/", q, keep, f.Page, f.PageSize, page.Total)
	if page.Estimated && len(page.Posts) == f.PageSize && f.Page*f.PageSize >= page.Total {
		// An estimated total may fall short: a full page offers the next.
		w.Header().Set("Link", s.pageLinks("/api/post/", q, keep, f.Page, f.PageSize, f.Page*f.PageSize+1))
	}
	s.writePosts(w, page.Posts)
}

// Categories.

type categoryJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type categoryRequest struct {
	Name *string `json:"name"`
}

func (s *Server) handleCategories(w http.ResponseWriter, r *http.Request) {
	cs, err := s.store.Categories(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]categoryJSON, len(cs))
	for i, c := range cs {
		out[i] = categoryJSON{ID: c.ID, Name: c.Name}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) readCategoryName(w http.ResponseWriter, r *http.Request) (string, error) {
	var req categoryRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return "", err
	}
	if req.Name == nil {
		return "", store.Invalid("name", msgRequired)
	}
	return *req.Name, nil
}

func (s *Server) handleCreateCategory(w http.ResponseWriter, r *http.Request) {
	name, err := s.readCategoryName(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.store.CreateCategory(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, categoryJSON{ID: c.ID, Name: c.Name})
}

func (s *Server) handleRenameCategory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name, err := s.readCategoryName(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.store.RenameCategory(r.Context(), id, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, categoryJSON{ID: c.ID, Name: c.Name})
}

func (s *Server) handleDeleteCategory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.DeleteCategory(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
