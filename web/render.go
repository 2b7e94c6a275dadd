package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"maru/store"
	"maru/web/tmpl"
)

//go:embed templates
var templateFiles embed.FS

// pageData is what every page template gets: who is looking, in which
// language, the one-time notice, and the page's own data.
type pageData struct {
	Lang  string
	Title string // already in Lang
	User  *store.User
	Flash string // already in Lang; shown once
	Path  string // this page's path and query, for next= links and the language switch
	Now   time.Time
	Form  *pageForm
	Data  any

	s *Server
}

// T is the catalog entry key in the page's language, its %-verbs filled by args.
func (p *pageData) T(key string, args ...any) string { return translate(p.Lang, key, args...) }

// Asset is the content-hashed URL of a static file.
func (p *pageData) Asset(name string) (string, error) { return p.s.assets.url(name) }

// Time shows t as a relative time ("3 minutes ago") with the exact time on
// hover; static/app.js keeps it current and shows the exact time in the
// reader's own time zone.
func (p *pageData) Time(t time.Time) template.HTML {
	iso := t.UTC().Format(time.RFC3339)
	exact := t.UTC().Format("2006-01-02 15:04 UTC")
	return template.HTML(`<time datetime="` + iso + `" title="` + exact + `">` +
		template.HTMLEscapeString(ago(p.Lang, t, p.Now)) + `</time>`)
}

// Hits says how many times a post was viewed.
func (p *pageData) Hits(n int64) string {
	if n == 1 {
		return p.T("board.hits.one")
	}
	return p.T("board.hits", n)
}

// Current is the value of aria-current for the navigation link to
// section ("/", "/chat", "/friends", "/admin", "/profile"): "page" on that
// very page, "true" anywhere else in it, "" outside.
func (p *pageData) Current(section string) string {
	at, _, _ := strings.Cut(p.Path, "?")
	switch {
	case at == section:
		return "page"
	case section == "/" && (strings.HasPrefix(at, "/posts/") || at == "/posts"),
		section != "/" && strings.HasPrefix(at, section+"/"):
		return "true"
	}
	return ""
}

// IsAdmin reports whether the viewer is an admin.
func (p *pageData) IsAdmin() bool { return p.User != nil && p.User.IsAdmin }

// pageForm carries what a person typed into a form, and what was wrong with
// it, so that a refused form comes back as they left it.
type pageForm struct {
	values url.Values
	errors map[string][]string
	lang   string
}

func newForm(r *http.Request, lang string) *pageForm {
	return &pageForm{values: r.PostForm, lang: lang}
}

// Value is the submitted value of field.
func (f *pageForm) Value(field string) string {
	if f == nil {
		return ""
	}
	return f.values.Get(field)
}

// Set sets the value a form shows for field, e.g. from the stored record.
func (f *pageForm) Set(field, value string) {
	if f.values == nil {
		f.values = url.Values{}
	}
	f.values.Set(field, value)
}

// Errors are the messages for field, in the page's language where the
// catalog knows them.
func (f *pageForm) Errors(field string) []string {
	if f == nil {
		return nil
	}
	msgs := f.errors[field]
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = translateMessage(f.lang, m)
	}
	return out
}

// Invalid reports whether the form was refused.
func (f *pageForm) Invalid() bool { return f != nil && len(f.errors) > 0 }

// fail records err on the form when it is a validation error and reports
// whether it was; anything else is for the error page.
func (f *pageForm) fail(err error) bool {
	p, ok := problemOf(err)
	if !ok || p.status != http.StatusBadRequest || p.fields == nil {
		return false
	}
	f.errors = p.fields
	return true
}

// userRow is one account in a list of the admin pages, with the page it
// is shown on: a template that draws a row needs both.
type userRow struct {
	P *pageData
	U *store.User
}

// templates holds every page, each parsed with the layout and partials
// once at start-up: a broken template fails the start, not a request.
type templates map[string]*tmpl.Set

// templateFuncs are the functions templates call.
var templateFuncs = tmpl.FuncMap{
	"add":        func(a, b int) int { return a + b },
	"pictureURL": picturePath,
	"initial":    initial,
	"userRow":    func(p *pageData, u *store.User) userRow { return userRow{P: p, U: u} },
}

// templateMethods are the methods templates call: tmpl sees no others.
var templateMethods = tmpl.Methods{
	"T":             {(*pageData).T, friendRow.T},
	"Asset":         {(*pageData).Asset},
	"Time":          {(*pageData).Time},
	"IsAdmin":       {(*pageData).IsAdmin},
	"Current":       {(*pageData).Current},
	"Hits":          {(*pageData).Hits},
	"Value":         {(*pageForm).Value},
	"Errors":        {(*pageForm).Errors},
	"Invalid":       {(*pageForm).Invalid},
	"Numbers":       {(*pager).Numbers},
	"URL":           {(*pager).URL},
	"Action":        {(*postFormPage).Action},
	"Cancel":        {(*postFormPage).Cancel},
	"CategoryLabel": {(*boardPage).CategoryLabel},
	"CategoryName":  {(*boardPage).CategoryName},
	"Filtered":      {(*boardPage).Filtered},
	"PastEnd":       {(*boardPage).PastEnd},
	"Edited":        {(*postPage).Edited},
	"HistoryPath":   {(*roomPage).HistoryPath},
	"WSPath":        {(*roomPage).WSPath},
	"UTC":           {time.Time.UTC},
	"Format":        {time.Time.Format},
	"IsZero":        {time.Time.IsZero},
}

func parseTemplates() (templates, error) {
	base, err := tmpl.New(templateFuncs, templateMethods)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"layout", "partials"} {
		if err := parseTemplateFile(base, name); err != nil {
			return nil, err
		}
	}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	ts := templates{}
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t := base.Clone()
		if err := parseTemplateFile(t, name); err != nil {
			return nil, err
		}
		if !t.Has("main") || !t.Has("title") {
			return nil, fmt.Errorf("templates: %s defines no \"title\" or \"main\"", file)
		}
		ts[name] = t
	}
	return ts, nil
}

func parseTemplateFile(t *tmpl.Set, name string) error {
	src, err := fs.ReadFile(templateFiles, "templates/"+name+".html")
	if err != nil {
		return err
	}
	if err := t.Parse(name, string(src)); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	return nil
}

// newPage starts the data of a page for r.
func (s *Server) newPage(r *http.Request, titleKey string, data any) *pageData {
	lang := pageLang(r)
	p := &pageData{
		Lang: lang,
		User: currentUser(r),
		Path: r.URL.RequestURI(),
		Now:  s.store.Now(),
		Data: data,
		s:    s,
	}
	p.Title = p.T(titleKey)
	return p
}

// The headers of every page: its own CSP, which lets our scripts and
// styles in and nothing else, and no caching of what is someone's view.
var (
	hdrHTML      = []string{"text/html; charset=utf-8"}
	hdrPageCSP   = []string{pageCSP}
	hdrNoStore   = []string{"no-store"}
	hdrVaryCooky = []string{"Cookie, Accept-Language"}
)

// renderCheck, when a test sets it, is shown every page rendered, its data
// and its error, so that the page can be checked against html/template's.
var renderCheck func(name string, p *pageData, page []byte, err error)

// pageBufs are the buffers pages render into, reused: a page is 10-30 KB,
// and a new one each time was a good part of a page's cost in allocation
// and collection. One that grew past maxPooledPage is let go.
var pageBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledPage = 256 << 10

// render executes page name into a buffer and only then writes status and
// body, so a template error becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *pageData) {
	t, ok := s.pages[name]
	if !ok {
		s.serverError(w, r, fmt.Errorf("no page template %q", name))
		return
	}
	if p.Flash == "" && s.sessions != nil && r.Header.Get("Authorization") == "" {
		if key := s.sessions.PopString(r.Context(), sessionFlashKey); key != "" {
			if arg := s.sessions.PopString(r.Context(), sessionFlashArgKey); arg != "" {
				p.Flash = p.T(key, arg)
			} else {
				p.Flash = p.T(key)
			}
		}
	}
	buf := pageBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledPage {
			pageBufs.Put(buf)
		}
	}()
	err := t.Execute(buf, "layout", p)
	if renderCheck != nil {
		renderCheck(name, p, buf.Bytes(), err)
	}
	if err != nil {
		if name == "error" {
			// The error page itself failed: fall back to plain text.
			s.log.Error("render error page", "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		s.serverError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	h := w.Header()
	h["Content-Type"] = hdrHTML
	h["Content-Security-Policy"] = hdrPageCSP
	h["Cache-Control"] = hdrNoStore
	h["Vary"] = hdrVaryCooky
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fragmentCheck, when a test sets it, is shown every fragment rendered,
// as renderCheck is every page.
var fragmentCheck func(page, name string, data any, out []byte, err error)

// fragment renders template name of page on its own, for a part of a page
// that is kept (board rows), starting in element content.
func (s *Server) fragment(page, name string, data any) (template.HTML, error) {
	var buf bytes.Buffer
	err := s.pages[page].Execute(&buf, name, data)
	if fragmentCheck != nil {
		fragmentCheck(page, name, data, buf.Bytes(), err)
	}
	if err != nil {
		return "", fmt.Errorf("render %s of %s: %w", name, page, err)
	}
	return template.HTML(buf.String()), nil
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Message string
	Fields  []string
}

// renderError answers a page route's failure with the error page, in the
// site's look and the reader's language.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, pr problem) {
	key := pr.msgKey
	if key == "" {
		key = "error." + strconv.Itoa(pr.status)
		if _, ok := catalog[key]; !ok {
			key = "error.other"
		}
	}
	p := s.newPage(r, "error.title."+strconv.Itoa(pr.status), nil)
	if _, ok := catalog["error.title."+strconv.Itoa(pr.status)]; !ok {
		p.Title = http.StatusText(pr.status)
	}
	ep := &errorPage{Status: pr.status, Message: p.T(key)}
	for _, msgs := range pr.fields {
		for _, m := range msgs {
			ep.Fields = append(ep.Fields, translateMessage(p.Lang, m))
		}
	}
	p.Data = ep
	p.Flash = "-" // an error page never eats the notice meant for the next page
	s.render(w, r, pr.status, "error", p)
}

const (
	sessionFlashKey    = "flash"
	sessionFlashArgKey = "flash_arg"
)

// flash leaves the notice key for the next page the browser shows: the
// POST/redirect/GET pattern's "Saved".
func (s *Server) flash(r *http.Request, key string) {
	s.sessions.Put(r.Context(), sessionFlashKey, key)
	s.sessions.Remove(r.Context(), sessionFlashArgKey)
}

// flashWith is flash for a notice that names something ("ann@example.com
// added"): arg fills the entry's %s when the next page shows it, in that
// page's language.
func (s *Server) flashWith(r *http.Request, key, arg string) {
	s.sessions.Put(r.Context(), sessionFlashKey, key)
	s.sessions.Put(r.Context(), sessionFlashArgKey, arg)
}

// redirect sends the browser on to path with 303 See Other, which turns
// the form's POST into a GET.
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// localPath returns next when it is a path on this site, and fallback
// otherwise: a login link's ?next= must never send anyone elsewhere
// ("//evil.example", "https://...", "/\\evil" are all refused).
func localPath(next, fallback string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return next
}

// requirePageUser lets only logged-in people through to a page; the rest
// are sent to the login page, which brings them back afterwards.
func (s *Server) requirePageUser(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) == nil {
			redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
			return
		}
		next(w, r)
	}
}

// requirePageAdmin lets only admins through; others get the 403 page.
func (s *Server) requirePageAdmin(next http.HandlerFunc) http.HandlerFunc {
	return s.requirePageUser(func(w http.ResponseWriter, r *http.Request) {
		if !isAdmin(currentUser(r)) {
			s.writeError(w, r, errForbidden)
			return
		}
		next(w, r)
	})
}

// formPage starts a page that answers a submitted form: it reads the form
// (answering the error itself when it cannot, and then ok is false) and
// gives the page data with the form attached, ready to re-render with the
// input kept.
func (s *Server) formPage(w http.ResponseWriter, r *http.Request, titleKey string, data any) (p *pageData, f *pageForm, ok bool) {
	if err := s.parseForm(w, r); err != nil {
		s.writeError(w, r, err)
		return nil, nil, false
	}
	p = s.newPage(r, titleKey, data)
	f = newForm(r, p.Lang)
	p.Form = f
	return p, f, true
}

// parseForm reads a urlencoded form under the JSON body cap; a multipart
// one (with a file) under the upload cap.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		bodyDeadline(w, 4*s.cfg.BodyTimeout) // pictures are larger, and come from phones
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return formReadError(err)
		}
		return nil
	}
	bodyDeadline(w, s.cfg.BodyTimeout)
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxJSONBytes)
	if err := r.ParseForm(); err != nil {
		return formReadError(err)
	}
	return nil
}

func formReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return mbe
	}
	if errors.Is(err, multipart.ErrMessageTooLarge) || strings.Contains(err.Error(), "too large") {
		return &http.MaxBytesError{}
	}
	return errDetail(http.StatusBadRequest, "Could not read the form.")
}

// initial is the first letter of a name, for the avatar of someone without
// a picture.
func initial(name string) string {
	for _, r := range name {
		return strings.ToUpper(string(r))
	}
	return "?"
}

// pager is the data of the page-number navigation: 1 … 4 5 [6] 7 8 … 20.
type pager struct {
	Page, Last int
	Labels     [3]string // of the pager, the previous page and the next, in the page's language
	path       string
	query      url.Values
}

func newPager(lang, path string, query url.Values, page, size, total int) *pager {
	last := max(1, (total+size-1)/size)
	return &pager{Page: page, Last: last, path: path, query: query,
		Labels: [3]string{translate(lang, "pager.label"), translate(lang, "pager.prev"), translate(lang, "pager.next")}}
}

// URL is the address of page n with the same filters.
func (p *pager) URL(n int) string {
	q := url.Values{}
	for k, v := range p.query {
		if k != "page" && len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	}
	if len(q) == 0 {
		return p.path
	}
	return p.path + "?" + q.Encode()
}

// Numbers are the page numbers to show, 0 standing for a gap.
func (p *pager) Numbers() []int {
	var out []int
	for n := 1; n <= p.Last; n++ {
		if n == 1 || n == p.Last || (n >= p.Page-2 && n <= p.Page+2) {
			out = append(out, n)
		} else if len(out) > 0 && out[len(out)-1] != 0 {
			out = append(out, 0)
		}
	}
	return out
}
