package web

import (
	"net/http"
	"strconv"

	"maru/store"
)

var boardText = map[string]text{
	"board.title":   {"Board", "게시판"},
	"board.empty":   {"No posts yet.", "아직 글이 없습니다."},
	"board.write":   {"Write", "글쓰기"},
	"board.hits":    {"%d views", "조회 %d"},
	"board.count":   {"%d posts", "글 %d개"},
	"board.deleted": {"deleted user", "탈퇴한 사용자"},
}

// boardPage is the data of the board.
type boardPage struct {
	Posts []*store.Post
	Total int
	Pager *pager
}

// boardPageSize is how many posts the board shows a page.
const boardPageSize = 20

func (s *Server) handleBoard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, r, store.Invalid("page", "A valid integer is required."))
			return
		}
		page = n
	}
	f := store.PostFilter{Page: page, PageSize: boardPageSize}
	res, err := s.store.ListPosts(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data := &boardPage{Posts: res.Posts, Total: res.Total, Pager: newPager("/", q, page, boardPageSize, res.Total)}
	s.render(w, r, http.StatusOK, "board", s.newPage(r, "board.title", data))
}
