package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"maru/store"
)

var adminText = map[string]text{
	"admin.title":           {"Admin", "관리"},
	"admin.nav":             {"Admin sections", "관리 메뉴"},
	"admin.overview":        {"Overview", "현황"},
	"admin.categories":      {"Categories", "카테고리"},
	"admin.users":           {"Users", "사용자"},
	"admin.count.users":     {"Users", "사용자"},
	"admin.count.admins":    {"Admins", "관리자"},
	"admin.count.posts":     {"Posts", "글"},
	"admin.count.rooms":     {"Chat rooms", "채팅방"},
	"admin.count.messages":  {"Chat messages", "채팅 메시지"},
	"admin.dbsize":          {"Database size", "데이터베이스 크기"},
	"admin.dbsize.hint":     {"The database file and its write-ahead log: the whole backup.", "데이터베이스 파일과 WAL 로그. 이것이 백업의 전부입니다."},
	"admin.version":         {"Version", "버전"},
	"admin.uptime":          {"Running for", "실행 시간"},
	"admin.uptime.min":      {"%d min", "%d분"},
	"admin.uptime.hours":    {"%d h %d min", "%d시간 %d분"},
	"admin.uptime.days":     {"%d days %d h", "%d일 %d시간"},
	"admin.cat.new":         {"New category", "새 카테고리"},
	"admin.cat.name":        {"Name", "이름"},
	"admin.cat.create":      {"Create", "만들기"},
	"admin.cat.rename":      {"Rename", "이름 바꾸기"},
	"admin.cat.newname":     {"New name for %s", "%s의 새 이름"},
	"admin.cat.delete":      {"Delete", "삭제"},
	"admin.cat.empty":       {"No categories yet.", "아직 카테고리가 없습니다."},
	"admin.cat.list":        {"Categories (%d)", "카테고리 (%d)"},
	"admin.cat.confirm":     {"Delete the category “%s”?", "“%s” 카테고리를 삭제할까요?"},
	"admin.cat.confirm.why": {"Its posts stay on the board, without a category. This cannot be undone.", "글은 카테고리 없이 게시판에 남습니다. 되돌릴 수 없습니다."},
	"admin.cat.keep":        {"Keep it", "취소"},
	"admin.users.search":    {"Find accounts by email", "이메일로 계정 찾기"},
	"admin.users.hint":      {"Any part of the address; private accounts included.", "주소의 일부로 찾습니다. 비공개 계정도 나옵니다."},
	"admin.users.go":        {"Search", "검색"},
	"admin.users.admins":    {"Admins (%d)", "관리자 (%d)"},
	"admin.users.results":   {"Accounts matching “%s”", "“%s” 검색 결과"},
	"admin.users.none":      {"No account matches.", "맞는 계정이 없습니다."},
	"admin.users.more":      {"Only the first %d are shown: type more of the address.", "처음 %d개만 보입니다. 주소를 더 입력하세요."},
	"admin.users.make":      {"Make admin", "관리자로 지정"},
	"admin.users.unmake":    {"Remove admin", "관리자 해제"},
	"admin.users.you":       {"You", "나"},
	"admin.err.self":        {"You cannot remove your own admin role: ask another admin.", "자기 자신의 관리자 권한은 해제할 수 없습니다. 다른 관리자에게 요청하세요."},
	"admin.err.last":        {"This is the last admin: make someone else admin first.", "마지막 관리자입니다. 먼저 다른 사람을 관리자로 지정하세요."},
	"flash.cat.created":     {"Category %s created", "%s 카테고리를 만들었습니다"},
	"flash.cat.renamed":     {"Category renamed to %s", "카테고리 이름을 %s(으)로 바꿨습니다"},
	"flash.cat.deleted":     {"Category %s deleted", "%s 카테고리를 삭제했습니다"},
	"flash.admin.made":      {"%s is now an admin", "%s님을 관리자로 지정했습니다"},
	"flash.admin.unmade":    {"%s is no longer an admin", "%s님의 관리자 권한을 해제했습니다"},

	"msg:category with this name already exists.":         {"A category with this name already exists.", "같은 이름의 카테고리가 이미 있습니다."},
	"msg:This field may not contain line breaks or tabs.": {"This field may not contain line breaks or tabs.", "줄바꿈이나 탭은 쓸 수 없습니다."},
}

// adminLink is one section of the admin pages. The sections share a
// navigation, so a new one (invites, audit log, rooms) is one more entry.
type adminLink struct {
	Path, Key string
}

var adminLinks = []adminLink{
	{"/admin", "admin.overview"},
	{"/admin/users", "admin.users"},
	{"/admin/invites", "admin.invites"},
	{"/admin/rooms", "admin.rooms"},
	{"/admin/categories", "admin.categories"},
	{"/admin/audit", "admin.audit"},
}

// adminFrame is what every admin page has: the navigation, with the
// current section marked.
type adminFrame struct {
	Nav     []adminLink
	Current string
}

func newAdminFrame(current string) adminFrame { return adminFrame{Nav: adminLinks, Current: current} }

// adminOverview is the data of /admin.
type adminOverview struct {
	adminFrame
	Counts  store.Counts
	DBBytes int64
	DBSize  string
	Version string
	Uptime  string
	Started time.Time
}

func (s *Server) handleAdminPage(w http.ResponseWriter, r *http.Request) {
	counts, err := s.store.Counts(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	size, err := s.store.DiskSize()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "admin.title", nil)
	p.Data = &adminOverview{
		adminFrame: newAdminFrame("/admin"),
		Counts:     counts,
		DBBytes:    size,
		DBSize:     formatBytes(size),
		Version:    s.cfg.Version,
		Uptime:     uptime(p.Lang, time.Since(s.started)),
		Started:    s.started,
	}
	s.render(w, r, http.StatusOK, "admin", p)
}

// formatBytes writes n in the largest binary unit that keeps it at least 1,
// with one decimal: "12.3 MB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMGTP"[exp])
}

// uptime says how long the server has run, to the minute.
func uptime(lang string, d time.Duration) string {
	mins := int(d / time.Minute)
	switch {
	case mins < 60:
		return translate(lang, "admin.uptime.min", mins)
	case mins < 24*60:
		return translate(lang, "admin.uptime.hours", mins/60, mins%60)
	}
	return translate(lang, "admin.uptime.days", mins/(24*60), mins%(24*60)/60)
}

// adminCategories is the data of /admin/categories. Failed is the category
// whose rename was refused (0: none, or the create form), so that only its
// row shows the typed name and the message.
type adminCategories struct {
	adminFrame
	Categories []store.Category
	Failed     int64
}

func (s *Server) handleAdminCategories(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "admin.categories", nil)
	p.Form = &pageForm{lang: p.Lang}
	s.renderAdminCategories(w, r, p, http.StatusOK, 0)
}

func (s *Server) renderAdminCategories(w http.ResponseWriter, r *http.Request, p *pageData, status int, failed int64) {
	cats, err := s.store.Categories(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p.Path = "/admin/categories"
	p.Data = &adminCategories{adminFrame: newAdminFrame("/admin/categories"), Categories: cats, Failed: failed}
	s.render(w, r, status, "admin_categories", p)
}

func (s *Server) handleAdminCategoryCreate(w http.ResponseWriter, r *http.Request) {
	p, f, ok := s.formPage(w, r, "admin.categories", nil)
	if !ok {
		return
	}
	c, err := s.store.CreateCategory(r.Context(), f.Value("name"))
	if err == nil {
		s.flashWith(r, "flash.cat.created", c.Name)
		redirect(w, r, "/admin/categories")
		return
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	s.renderAdminCategories(w, r, p, http.StatusBadRequest, 0)
}

func (s *Server) handleAdminCategoryRename(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, f, ok := s.formPage(w, r, "admin.categories", nil)
	if !ok {
		return
	}
	c, err := s.store.RenameCategory(r.Context(), id, f.Value("name"))
	if err == nil {
		s.flashWith(r, "flash.cat.renamed", c.Name)
		redirect(w, r, "/admin/categories")
		return
	}
	if !f.fail(err) {
		s.writeError(w, r, err) // an unknown category is the 404 page
		return
	}
	s.renderAdminCategories(w, r, p, http.StatusBadRequest, id)
}

// adminConfirm is the data of a confirmation page: what is about to go,
// and where the form that does it posts.
type adminConfirm struct {
	adminFrame
	Question string
	Quote    string // what is about to go, in its own words (a message); "": none
	Why      string
	Action   string
	Back     string
}

// handleAdminCategoryConfirm asks before a delete: a page, so that it
// works without JavaScript.
func (s *Server) handleAdminCategoryConfirm(w http.ResponseWriter, r *http.Request) {
	c, err := s.categoryByPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "admin.cat.delete", nil)
	p.Data = &adminConfirm{
		adminFrame: newAdminFrame("/admin/categories"),
		Question:   p.T("admin.cat.confirm", c.Name),
		Why:        p.T("admin.cat.confirm.why"),
		Action:     "/admin/categories/" + strconv.FormatInt(c.ID, 10) + "/delete",
		Back:       "/admin/categories",
	}
	s.render(w, r, http.StatusOK, "admin_confirm", p)
}

func (s *Server) handleAdminCategoryDelete(w http.ResponseWriter, r *http.Request) {
	c, err := s.categoryByPath(r)
	if err == nil {
		err = s.store.DeleteCategory(r.Context(), c.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.flashWith(r, "flash.cat.deleted", c.Name)
	redirect(w, r, "/admin/categories")
}

// categoryByPath is the category the {id} of the path names.
func (s *Server) categoryByPath(r *http.Request) (*store.Category, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	cats, err := s.store.Categories(r.Context())
	if err != nil {
		return nil, err
	}
	for _, c := range cats {
		if c.ID == id {
			return &c, nil
		}
	}
	return nil, errNotFound
}

// adminUsers is the data of /admin/users: the admins, or the accounts a
// search found.
type adminUsers struct {
	adminFrame
	Query    string
	Users    []*store.User
	Disabled []*store.User // without a search: the disabled accounts
	More     bool
	Max      int
	Me       int64
}

func (s *Server) handleAdminUsers(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "admin.users", nil)
	p.Form = &pageForm{lang: p.Lang}
	s.renderAdminUsers(w, r, p, http.StatusOK, r.URL.Query().Get("q"))
}

func (s *Server) renderAdminUsers(w http.ResponseWriter, r *http.Request, p *pageData, status int, q string) {
	data := &adminUsers{adminFrame: newAdminFrame("/admin/users"), Query: q, Max: store.MaxAdminSearchResults, Me: currentUser(r).ID}
	users, err := s.store.AdminSearchUsers(r.Context(), q)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		p.Form.errors = map[string][]string{"q": ve.Fields["keyword"]}
		status, err = http.StatusBadRequest, nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data.Users, data.More = users, len(users) >= store.MaxAdminSearchResults
	if q == "" {
		if data.Disabled, err = s.store.DisabledUsers(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	p.Data = data
	p.Path = adminUsersPath(q)
	s.render(w, r, status, "admin_users", p)
}

func adminUsersPath(q string) string {
	if q == "" {
		return "/admin/users"
	}
	return "/admin/users?q=" + url.QueryEscape(q)
}

// handleAdminSetAdmin grants (admin=1) or withdraws (admin=0) a user's
// admin role, then goes back to the search it was pressed on.
func (s *Server) handleAdminSetAdmin(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, f, ok := s.formPage(w, r, "admin.users", nil)
	if !ok {
		return
	}
	admin, ok := parseFormBool(f.Value("admin"))
	if !ok || f.Value("admin") == "" {
		s.writeError(w, r, store.Invalid("admin", "Must be a valid boolean."))
		return
	}
	target, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := f.Value("q")
	if !canModerate(currentUser(r), target) {
		f.errors = map[string][]string{"admin": {p.T("admin.err.self")}}
		s.renderAdminUsers(w, r, p, http.StatusBadRequest, q)
		return
	}
	u, err := s.store.SetAdminByID(r.Context(), currentUser(r), id, admin)
	if errors.Is(err, store.ErrLastAdmin) {
		f.errors = map[string][]string{"admin": {p.T("admin.err.last")}}
		s.renderAdminUsers(w, r, p, http.StatusBadRequest, q)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if admin {
		s.flashWith(r, "flash.admin.made", u.Email)
	} else {
		s.flashWith(r, "flash.admin.unmade", u.Email)
	}
	redirect(w, r, adminUsersPath(q))
}
