package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"maru/store"
)

var boardText = map[string]text{
	"board.title":      {"Board", "게시판"},
	"board.empty":      {"No posts yet.", "아직 글이 없습니다."},
	"board.write":      {"Write", "글쓰기"},
	"board.hits":       {"%d views", "조회 %d"},
	"board.hits.one":   {"1 view", "조회 1"},
	"board.count":      {"%d posts", "글 %d개"},
	"board.deleted":    {"deleted user", "탈퇴한 사용자"},
	"board.filters":    {"Find posts", "글 찾기"},
	"board.search":     {"Search", "검색어"},
	"board.category":   {"Category", "카테고리"},
	"board.allcats":    {"All categories", "모든 카테고리"},
	"board.tag":        {"Tag", "태그"},
	"board.find":       {"Find", "찾기"},
	"board.clear":      {"Show all posts", "모든 글 보기"},
	"board.posts":      {"Posts", "글 목록"},
	"board.tags":       {"Tags", "태그"},
	"board.nomatch":    {"No posts match.", "조건에 맞는 글이 없습니다."},
	"board.searched":   {"Searched for", "찾은 조건"},
	"board.bysearch":   {"text “%s”", "검색어 “%s”"},
	"board.bycategory": {"category “%s”", "카테고리 “%s”"},
	"board.bytag":      {"tag #%s", "태그 #%s"},
	"board.pastend":    {"There is no page %d: the list has %d pages.", "%d쪽은 없습니다. 목록은 %d쪽까지 있습니다."},
	"board.firstpage":  {"Go to the first page", "첫 쪽으로 가기"},
	"board.pages":      {"Pages", "쪽"},

	"board.bad":          {"The board cannot show this address: fix the part named below.", "이 주소로는 게시판을 보여 줄 수 없습니다. 아래 항목을 고치세요."},
	"board.bad.page":     {"Page: give a whole number from 1 up.", "쪽: 1 이상의 정수를 쓰세요."},
	"board.bad.category": {"Category: choose one from the list.", "카테고리: 목록에서 고르세요."},
	"board.bad.search":   {"Search: at most %d characters, without control characters.", "검색어: %d자 이하, 제어 문자 없이 쓰세요."},
	"board.bad.tag":      {"Tag: at most %d characters, without control characters.", "태그: %d자 이하, 제어 문자 없이 쓰세요."},
}

// boardPage is the data of the board.
type boardPage struct {
	Posts      []*store.Post
	Rows       []boardRow // Posts as the list shows them
	Total      int
	Pager      *pager
	Search     string
	Tag        string
	CategoryID int64 // 0: any; below 0 matches nothing, as in the API
	Categories []store.Category

	categoryParam string // as asked, for saying what was searched
}

// boardRow is one post of the list as the page shows it. Head and Tail,
// the parts that change only with the post, come from boardRows; the
// relative time and the hits, which change by the minute and the view,
// are worked out for each page.
type boardRow struct {
	Head, Tail template.HTML
	When       template.HTML // relative time, as pageData.Time shows it
	Hits       string        // "12 hits"
}

// rowData is what the templates board.row.head and board.row.tail draw.
type rowData struct {
	*store.Post
	Category  string // its category's name, "" for none
	Deleted   string // what stands for a deleted author
	TagsLabel string
}

// rowKey names the parts of a row: they change with the post (its Rev,
// which its author's nickname is part of), the name of its category and
// the language.
type rowKey struct {
	id       int64
	rev      uint64
	category string
	lang     string
}

type rowParts struct{ head, tail template.HTML }

// rowCache keeps board rows' parts, so that a board page costs little more
// than the JSON list: drawing 20 rows through the template was most of
// the page's time. Past maxCachedRows it starts over.
type rowCache struct {
	m sync.Map // rowKey → rowParts
	n atomic.Int64
}

const maxCachedRows = 4096

// boardRow makes post's row of the board in page p's language.
func (s *Server) boardRow(p *pageData, b *boardPage, post *store.Post) (boardRow, error) {
	row := boardRow{When: p.Time(post.CreatedAt), Hits: p.Hits(post.Hit)}
	key := rowKey{post.ID, post.Rev, b.CategoryName(post.CategoryID), p.Lang}
	if v, ok := s.boardRows.m.Load(key); ok {
		row.Head, row.Tail = v.(rowParts).head, v.(rowParts).tail
		return row, nil
	}
	data := rowData{Post: post, Category: key.category, Deleted: p.T("board.deleted"), TagsLabel: p.T("board.tags")}
	var err error
	if row.Head, err = s.fragment("board", "board.row.head", data); err != nil {
		return row, err
	}
	if row.Tail, err = s.fragment("board", "board.row.tail", data); err != nil {
		return row, err
	}
	if post.Rev != 0 { // a post not loaded from the database is not kept
		if s.boardRows.n.Add(1) > maxCachedRows {
			s.boardRows.m.Clear()
			s.boardRows.n.Store(1)
		}
		s.boardRows.m.Store(key, rowParts{row.Head, row.Tail})
	}
	return row, nil
}

// Filtered reports whether any filter narrows the list.
func (b *boardPage) Filtered() bool { return b.Search != "" || b.Tag != "" || b.CategoryID != 0 }

// CategoryName is the name of category id, "" when there is none.
func (b *boardPage) CategoryName(id int64) string {
	if id == 0 {
		return ""
	}
	i := sort.Search(len(b.Categories), func(i int) bool { return b.Categories[i].ID >= id })
	if i < len(b.Categories) && b.Categories[i].ID == id {
		return b.Categories[i].Name
	}
	return ""
}

// CategoryLabel names the chosen category for the "searched for" line: its
// name, or the number asked for when no category has it.
func (b *boardPage) CategoryLabel() string {
	if name := b.CategoryName(b.CategoryID); name != "" {
		return name
	}
	return b.categoryParam
}

// PastEnd reports whether the page asked for lies beyond the last one.
func (b *boardPage) PastEnd() bool { return len(b.Posts) == 0 && b.Total > 0 }

// boardPageSize is how many posts the board shows a page.
const boardPageSize = store.DefaultPageSize

// boardFilter reads the board's query: search, category and tag combine as
// in the JSON list (GET /api/post/), and page counts from 1. A bad value is
// a ValidationError under the parameter's name.
func boardFilter(q url.Values) (store.PostFilter, error) {
	v := new(store.ValidationError)
	f := store.PostFilter{
		Search:   strings.TrimSpace(q.Get("search")),
		Tag:      strings.TrimSpace(q.Get("tag")),
		Page:     positiveParam(v, q, "page", 1),
		PageSize: boardPageSize,
	}
	if c := strings.TrimSpace(q.Get("category")); c != "" {
		id, ok := parseWhole(c) // past 64 bits, like any unknown id, it matches nothing
		switch {
		case !ok:
			v.Add("category", "A valid integer is required.")
		case id <= 0:
			f.CategoryID = -1 // names no category, so matches no post, as in the API
		default:
			f.CategoryID = id
		}
	}
	if !shortText(f.Search, store.MaxSearchLen) {
		v.Add("search", "Invalid search.")
	}
	if !shortText(f.Tag, store.MaxTagLen) {
		v.Add("tag", "Invalid tag.")
	}
	return f, v.Err()
}

// shortText reports whether s is valid UTF-8 of at most max characters
// without control characters.
func shortText(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max &&
		strings.IndexFunc(s, unicode.IsControl) < 0
}

func (s *Server) handleBoard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := boardFilter(q)
	if err != nil {
		s.boardBadRequest(w, r, err)
		return
	}
	ctx := r.Context()
	res, err := s.store.ListPosts(ctx, f)
	if err != nil {
		s.boardBadRequest(w, r, err)
		return
	}
	cats, err := s.store.Categories(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data := &boardPage{
		Posts: res.Posts, Total: res.Total, Search: f.Search, Tag: f.Tag, CategoryID: f.CategoryID,
		Categories: cats, categoryParam: strings.TrimSpace(q.Get("category")),
		Pager: newPager(pageLang(r), "/", q, f.Page, boardPageSize, res.Total),
	}
	p := s.newPage(r, "board.title", data)
	data.Rows = make([]boardRow, len(res.Posts))
	for i, post := range res.Posts {
		if data.Rows[i], err = s.boardRow(p, data, post); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "board", p)
}

// boardBadRequest answers a board address it cannot show with the 400 page,
// each message naming the part of the address that is wrong; any other
// error goes to writeError.
func (s *Server) boardBadRequest(w http.ResponseWriter, r *http.Request, err error) {
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "error.title.400", nil)
	ep := &errorPage{Status: http.StatusBadRequest, Message: p.T("board.bad")}
	for _, field := range []string{"search", "category", "tag", "page"} {
		if !ve.Has(field) {
			continue
		}
		switch field {
		case "search":
			ep.Fields = append(ep.Fields, p.T("board.bad.search", store.MaxSearchLen))
		case "tag":
			ep.Fields = append(ep.Fields, p.T("board.bad.tag", store.MaxTagLen))
		default:
			ep.Fields = append(ep.Fields, p.T("board.bad."+field))
		}
	}
	p.Data = ep
	p.Flash = "-" // the notice waits for the next page that shows
	s.render(w, r, http.StatusBadRequest, "error", p)
}
