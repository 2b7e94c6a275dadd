package web

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"maru/store"
)

// Paged lists (posts, chat rooms) share their parameters and headers: the
// body stays a plain array, as the seed's clients expect, and the paging
// is told in Link (rel next/prev) and X-Total-Count.

// pageParams reads page (default 1) and page_size (default 20, lowered to
// at most 100) from q; a value that is not a whole number of at least 1 is
// a validation error naming its field.
func pageParams(v *store.ValidationError, q url.Values) (page, size int) {
	page = positiveParam(v, q, "page", 1)
	size = min(positiveParam(v, q, "page_size", store.DefaultPageSize), store.MaxPageSize)
	return page, size
}

// positiveParam reads an optional integer parameter of at least 1. A
// number too large for an int counts as the largest int: a page that far
// is past the end of any list (an empty page, as DESIGN.md has it), a
// size that large is lowered to the maximum like any other.
func positiveParam(v *store.ValidationError, q url.Values, key string, def int) int {
	s := strings.TrimSpace(q.Get(key))
	if s == "" {
		return def
	}
	n, ok := parseWhole(s)
	if !ok {
		v.Add(key, "A valid integer is required.")
		return def
	}
	if n < 1 {
		v.Add(key, "Ensure this value is greater than or equal to 1.")
		return def
	}
	return int(min(n, math.MaxInt))
}

// parseWhole reads a whole number in decimal, signed or not. One beyond
// 64 bits saturates at math.MaxInt64 (or MinInt64) instead of failing:
// every number in a query (a page, a size, a limit, a message id) means
// the same past that point as at it.
func parseWhole(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return n, true // ParseInt saturates on ErrRange
	}
	return n, err == nil
}

// setPageHeaders sets X-Total-Count and, when there is a page to link to,
// Link on the answer for page of a list at path. The links keep the
// parameters of q named in keep (the list's filters).
func (s *Server) setPageHeaders(w http.ResponseWriter, path string, q url.Values, keep []string, page, size, total int) {
	h := w.Header()
	h.Set("X-Total-Count", strconv.Itoa(total))
	if link := s.pageLinks(path, q, keep, page, size, total); link != "" {
		h.Set("Link", link)
	}
}

// pageLinks is the Link header of a list page: the next page while there is
// one, the previous one from page 2 on.
func (s *Server) pageLinks(path string, q url.Values, keep []string, page, size, total int) string {
	link := func(page int, rel string) string {
		lq := url.Values{}
		for _, k := range keep {
			if v := q.Get(k); v != "" {
				lq.Set(k, v)
			}
		}
		lq.Set("page", strconv.Itoa(page))
		lq.Set("page_size", strconv.Itoa(size))
		return "<" + s.absURL(path+"?"+lq.Encode()) + `>; rel="` + rel + `"`
	}
	var links []string
	pages := (total + size - 1) / size
	if page < pages {
		links = append(links, link(page+1, "next"))
	}
	if page > 1 {
		links = append(links, link(min(page-1, max(pages, 1)), "prev"))
	}
	return strings.Join(links, ", ")
}
