package web

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"maru/store"
)

var postText = map[string]text{
	"post.title":         {"Post", "글"},
	"post.by":            {"Author", "글쓴이"},
	"post.written":       {"Written", "작성"},
	"post.edited":        {"edited", "수정됨"},
	"post.edit":          {"Edit", "수정"},
	"post.delete":        {"Delete", "삭제"},
	"post.back":          {"Back to the board", "게시판으로"},
	"post.new.title":     {"Write a post", "글쓰기"},
	"post.edit.title":    {"Edit post", "글 수정"},
	"post.f.title":       {"Title", "제목"},
	"post.f.content":     {"Content", "내용"},
	"post.f.contenthint": {"Markdown works: **bold**, _italic_, [link](https://…), lists, `code`. Links to http, https and mailto only.", "마크다운을 쓸 수 있습니다: **굵게**, _기울임_, [링크](https://…), 목록, `코드`. 링크는 http, https, mailto만 됩니다."},
	"post.f.tags":        {"Tags", "태그"},
	"post.f.tagshint":    {"Separate with commas: at most 10, each up to 30 characters.", "쉼표로 구분하세요. 최대 10개, 각각 30자까지."},
	"post.f.category":    {"Category", "카테고리"},
	"post.f.nocategory":  {"None", "없음"},
	"post.f.publish":     {"Publish", "올리기"},
	"post.f.save":        {"Save", "저장"},
	"post.f.cancel":      {"Cancel", "취소"},
	"post.delete.title":  {"Delete this post?", "이 글을 삭제할까요?"},
	"post.delete.warn":   {"“%s” will be gone for good, for everyone.", "“%s” 글이 모두에게서 완전히 사라집니다."},
	"post.delete.yes":    {"Delete", "삭제"},
	"post.delete.no":     {"Keep it", "그대로 두기"},
	"post.throttled":     {"You have written many posts in a short time. Please wait %s seconds and send again.", "짧은 시간에 글을 많이 썼습니다. %s초 뒤에 다시 보내세요."},
	"post.flash.new":     {"Post published", "글을 올렸습니다."},
	"post.flash.saved":   {"Saved", "저장했습니다."},
	"post.flash.deleted": {"Post deleted", "글을 삭제했습니다."},

	"msg:Choose a category from the list.":                 {"Choose a category from the list.", "목록에서 카테고리를 고르세요."},
	"msg:Ensure every tag has no more than 30 characters.": {"Each tag may have at most 30 characters.", "태그는 각각 30자까지 쓸 수 있습니다."},
	"msg:Ensure this field has no more than 10 elements.":  {"At most 10 tags.", "태그는 10개까지 쓸 수 있습니다."},
	"msg:Tag names may not contain control characters.":    {"Tag names may not contain control characters.", "태그에는 제어 문자를 쓸 수 없습니다."},
}

// postPage is the data of a post's page.
type postPage struct {
	Post      *store.Post
	Content   template.HTML // the Markdown, rendered by markdown.go's rules
	Category  string        // its name; "" when none
	CanChange bool          // the viewer may edit and delete it
}

// Edited reports whether the post was changed after it was written.
func (p *postPage) Edited() bool { return p.Post.UpdatedAt.After(p.Post.CreatedAt) }

func (s *Server) handlePostPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Reading the page counts a hit, as the API's detail does; a HEAD (a
	// link preview, a crawler) is not a reader.
	view := s.store.ViewPost
	if r.Method == http.MethodHead {
		view = s.store.PostByID
	}
	post, err := view(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data := &postPage{Post: post, CanChange: canChangePost(currentUser(r), post)}
	if post.CategoryID != 0 {
		cats, err := s.store.Categories(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		data.Category = categoryName(cats, post.CategoryID)
	}
	data.Content = renderMarkdown(post.Content)
	p := s.newPage(r, "post.title", data)
	p.Title = post.Title
	s.render(w, r, http.StatusOK, "post", p)
}

func categoryName(cats []store.Category, id int64) string {
	for _, c := range cats {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}

// postFormPage is the data of the write and edit forms.
type postFormPage struct {
	Post       *store.Post // nil while writing a new one
	Categories []store.Category
}

// Action is where the form posts.
func (d *postFormPage) Action() string {
	if d.Post == nil {
		return "/posts/new"
	}
	return "/posts/" + strconv.FormatInt(d.Post.ID, 10) + "/edit"
}

// Cancel is where leaving the form goes back to.
func (d *postFormPage) Cancel() string {
	if d.Post == nil {
		return "/"
	}
	return "/posts/" + strconv.FormatInt(d.Post.ID, 10)
}

// postForm is what the write and edit forms send, read and checked as far
// as the page can: the store checks the rest, as for the API.
type postForm struct {
	title, content string
	tags           []string
	categoryID     int64
}

// readPostForm reads f against the categories there are. Tags come as one
// comma-separated field; empty pieces ("a, b,") are dropped, the rest is
// for the store's tag rules.
func readPostForm(f *pageForm, cats []store.Category) (postForm, error) {
	pf := postForm{title: f.Value("title"), content: f.Value("content"), tags: []string{}}
	for t := range strings.SplitSeq(f.Value("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			pf.tags = append(pf.tags, t)
		}
	}
	if c := strings.TrimSpace(f.Value("category")); c != "" {
		id, err := strconv.ParseInt(c, 10, 64)
		if err != nil || categoryName(cats, id) == "" {
			return pf, store.Invalid("category", "Choose a category from the list.")
		}
		pf.categoryID = id
	}
	return pf, nil
}

// renderPostForm shows the write or edit form with status.
func (s *Server) renderPostForm(w http.ResponseWriter, r *http.Request, status int, p *pageData) {
	s.render(w, r, status, "post_form", p)
}

func (s *Server) handleNewPostPage(w http.ResponseWriter, r *http.Request) {
	cats, err := s.store.Categories(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "post.new.title", &postFormPage{Categories: cats})
	p.Form = &pageForm{lang: p.Lang}
	if c := r.URL.Query().Get("category"); c != "" {
		p.Form.Set("category", c) // writing from a category's board files the post there
	}
	s.renderPostForm(w, r, http.StatusOK, p)
}

func (s *Server) handleNewPostSubmit(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	cats, err := s.store.Categories(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "post.new.title", &postFormPage{Categories: cats})
	f := newForm(r, p.Lang)
	p.Form = f
	pf, err := readPostForm(f, cats)
	if err == nil {
		// The same hourly allowance as the API's: a page must not be a way
		// around it.
		var slot writeSlot
		if slot, err = s.postLimit.take(currentUser(r).ID); err != nil {
			s.renderThrottledForm(w, r, p, err)
			return
		}
		var post *store.Post
		post, err = s.store.CreatePost(r.Context(), store.NewPost{
			AuthorID: currentUser(r).ID, Title: pf.title, Content: pf.content, Tags: pf.tags, CategoryID: pf.categoryID,
		})
		if err == nil {
			s.flash(r, "post.flash.new")
			redirect(w, r, "/posts/"+strconv.FormatInt(post.ID, 10))
			return
		}
		slot.cancel()
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	s.renderPostForm(w, r, http.StatusBadRequest, p)
}

// renderThrottledForm answers a post over the hourly allowance with the
// form as it was sent, a 429 and the wait, so the text typed is not lost.
func (s *Server) renderThrottledForm(w http.ResponseWriter, r *http.Request, p *pageData, err error) {
	pr, ok := problemOf(err)
	if !ok || pr.status != http.StatusTooManyRequests {
		s.writeError(w, r, err)
		return
	}
	wait := pr.header.Get("Retry-After")
	w.Header().Set("Retry-After", wait)
	p.Form.errors = map[string][]string{"non_field_errors": {p.T("post.throttled", wait)}}
	s.renderPostForm(w, r, http.StatusTooManyRequests, p)
}

func (s *Server) handleEditPostPage(w http.ResponseWriter, r *http.Request) {
	post, err := s.ownPost(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cats, err := s.store.Categories(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "post.edit.title", &postFormPage{Post: post, Categories: cats})
	p.Form = &pageForm{lang: p.Lang}
	p.Form.Set("title", post.Title)
	p.Form.Set("content", post.Content)
	p.Form.Set("tags", strings.Join(post.Tags, ", "))
	if post.CategoryID != 0 {
		p.Form.Set("category", strconv.FormatInt(post.CategoryID, 10))
	}
	s.renderPostForm(w, r, http.StatusOK, p)
}

func (s *Server) handleEditPostSubmit(w http.ResponseWriter, r *http.Request) {
	post, err := s.ownPost(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.parseForm(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	cats, err := s.store.Categories(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "post.edit.title", &postFormPage{Post: post, Categories: cats})
	f := newForm(r, p.Lang)
	p.Form = f
	pf, err := readPostForm(f, cats)
	if err == nil {
		_, err = s.store.UpdatePost(r.Context(), post.ID, store.PostUpdate{
			Title: &pf.title, Content: &pf.content, Tags: &pf.tags, SetCategory: true, CategoryID: pf.categoryID,
		})
		if err == nil {
			s.flash(r, "post.flash.saved")
			redirect(w, r, "/posts/"+strconv.FormatInt(post.ID, 10))
			return
		}
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	s.renderPostForm(w, r, http.StatusBadRequest, p)
}

// handleDeletePostPage asks before deleting: a GET never deletes.
func (s *Server) handleDeletePostPage(w http.ResponseWriter, r *http.Request) {
	post, err := s.ownPost(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "post_delete", s.newPage(r, "post.delete.title", &postPage{Post: post}))
}

func (s *Server) handleDeletePostSubmit(w http.ResponseWriter, r *http.Request) {
	post, err := s.ownPost(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.deletePost(r, post); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.flash(r, "post.flash.deleted")
	redirect(w, r, "/")
}
