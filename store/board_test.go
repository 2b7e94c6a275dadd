package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// boardFixture is a store with a few posts in two categories.
type boardFixture struct {
	s        *Store
	u        *User
	cat1     int64
	cat2     int64
	computed func() int64
}

func newBoardFixture(t *testing.T) *boardFixture {
	t.Helper()
	s := openTest(t)
	ctx := context.Background()
	u := mustCreate(t, s, "writer@example.com")
	c1, err := s.CreateCategory(ctx, "one")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.CreateCategory(ctx, "two")
	if err != nil {
		t.Fatal(err)
	}
	f := &boardFixture{s: s, u: u, cat1: c1.ID, cat2: c2.ID, computed: s.board.computed.Load}
	for i := range 6 {
		cat := c1.ID
		if i%2 == 1 {
			cat = c2.ID
		}
		f.post(t, fmt.Sprintf("garden note %d", i), "about the river", cat, "green")
	}
	return f
}

func (f *boardFixture) post(t *testing.T, title, content string, cat int64, tags ...string) *Post {
	t.Helper()
	p, err := f.s.CreatePost(context.Background(), NewPost{AuthorID: f.u.ID, Title: title, Content: content, CategoryID: cat, Tags: tags})
	if err != nil {
		t.Fatalf("create post: %v", err)
	}
	return p
}

func (f *boardFixture) list(t *testing.T, pf PostFilter) *PostPage {
	t.Helper()
	page, err := f.s.ListPosts(context.Background(), pf)
	if err != nil {
		t.Fatalf("list %+v: %v", pf, err)
	}
	return page
}

func pageIDsOf(p *PostPage) []int64 {
	ids := make([]int64, len(p.Posts))
	for i, post := range p.Posts {
		ids[i] = post.ID
	}
	return ids
}

// Writes that are not posts (chat, sessions, tokens, hit flushes) leave
// every cached page and total in place: listing again computes nothing.
func TestOtherWritesKeepBoardCaches(t *testing.T) {
	f := newBoardFixture(t)
	ctx := context.Background()
	filters := []PostFilter{{}, {CategoryID: f.cat1}, {Tag: "green"}, {Search: "garden"}, {Search: "ri"}}
	for _, pf := range filters {
		f.list(t, pf)
	}
	before := f.computed()

	room, err := f.s.CreateRoom(ctx, f.u.ID, "room")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AddMessage(ctx, NewMessage{RoomID: room.ID, UserID: f.u.ID, Body: "hello garden"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Sessions().CommitCtx(ctx, "tok", []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddRefreshToken(ctx, "jti", f.u.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeRefreshToken(ctx, "jti", f.u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.ViewPost(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.s.FlushHits(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pf := range filters {
		f.list(t, pf)
	}
	if got := f.computed(); got != before {
		t.Errorf("listing again after chat, session, token and hit writes computed %d pages or totals, want 0", got-before)
	}
}

// A new post empties what it can change and nothing else, and is in the
// very next list, search, filter and detail.
func TestNewPostInvalidatesOnlyWhatItMatches(t *testing.T) {
	f := newBoardFixture(t)
	kept := []PostFilter{{CategoryID: f.cat1}, {Tag: "green"}, {Search: "garden"}, {Search: "ri"}}
	changed := []PostFilter{{}, {CategoryID: f.cat2}, {Tag: "blue"}, {Search: "harbor"}, {Search: "ha"}}
	for _, pf := range append(kept, changed...) {
		f.list(t, pf)
	}
	p := f.post(t, "harbor lights", "a boat", f.cat2, "blue")

	before := f.computed()
	for _, pf := range kept {
		f.list(t, pf)
	}
	if got := f.computed(); got != before {
		t.Errorf("lists the new post cannot be in were computed again (%d)", got-before)
	}
	for _, pf := range changed {
		page := f.list(t, pf)
		if !slices.Contains(pageIDsOf(page), p.ID) {
			t.Errorf("list %+v right after the write: ids %v, want %d among them", pf, pageIDsOf(page), p.ID)
		}
		if page.Total < 1 {
			t.Errorf("list %+v: total %d", pf, page.Total)
		}
	}
	if got, err := f.s.ViewPost(context.Background(), p.ID); err != nil || got.Title != "harbor lights" {
		t.Errorf("detail right after the write: %v, %v", got, err)
	}
}

// Edits and deletes show at once in lists, searches, totals and details,
// however those were cached before.
func TestEditsAndDeletesShowAtOnce(t *testing.T) {
	f := newBoardFixture(t)
	ctx := context.Background()
	p := f.post(t, "kettle", "boils water", f.cat1, "red")
	watch := func() {
		for _, pf := range []PostFilter{{}, {CategoryID: f.cat1}, {CategoryID: f.cat2}, {Tag: "red"}, {Tag: "blue"},
			{Search: "kettle"}, {Search: "teapot"}, {Search: "wat"}} {
			f.list(t, pf)
		}
		f.s.ViewPost(ctx, p.ID)
	}
	watch()
	title, content, tags := "teapot", "steeps tea", []string{"blue"}
	if _, err := f.s.UpdatePost(ctx, p.ID, PostUpdate{Title: &title, Content: &content, Tags: &tags, SetCategory: true, CategoryID: f.cat2}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pf   PostFilter
		want bool
	}{
		{PostFilter{CategoryID: f.cat1}, false}, {PostFilter{CategoryID: f.cat2}, true},
		{PostFilter{Tag: "red"}, false}, {PostFilter{Tag: "blue"}, true},
		{PostFilter{Search: "kettle"}, false}, {PostFilter{Search: "teapot"}, true}, {PostFilter{Search: "wat"}, false},
	} {
		page := f.list(t, c.pf)
		if got := slices.Contains(pageIDsOf(page), p.ID); got != c.want {
			t.Errorf("after the edit, list %+v holds the post: %v, want %v", c.pf, got, c.want)
		}
		if want := map[bool]int{true: 1, false: 0}[c.want]; c.pf.Tag != "" && page.Total != want {
			t.Errorf("after the edit, total of %+v = %d, want %d", c.pf, page.Total, want)
		}
	}
	if got, _ := f.s.ViewPost(ctx, p.ID); got.Title != "teapot" || got.CategoryID != f.cat2 {
		t.Errorf("detail after the edit: %q in %d", got.Title, got.CategoryID)
	}
	page := f.list(t, PostFilter{})
	if got := page.Posts[0]; got.Title != "teapot" {
		t.Errorf("unfiltered list after the edit shows %q", got.Title)
	}

	watch()
	total := f.list(t, PostFilter{}).Total
	if err := f.s.DeletePost(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	for _, pf := range []PostFilter{{}, {CategoryID: f.cat2}, {Tag: "blue"}, {Search: "teapot"}} {
		if page := f.list(t, pf); slices.Contains(pageIDsOf(page), p.ID) {
			t.Errorf("after the delete, list %+v still holds the post", pf)
		}
	}
	if got := f.list(t, PostFilter{}).Total; got != total-1 {
		t.Errorf("total after the delete %d, want %d", got, total-1)
	}
	if _, err := f.s.ViewPost(ctx, p.ID); err == nil {
		t.Error("detail of a deleted post answered")
	}
}

// A nickname change shows in the posts of its author at once.
func TestAuthorNameShowsInCachedPosts(t *testing.T) {
	f := newBoardFixture(t)
	ctx := context.Background()
	f.list(t, PostFilter{})
	f.s.ViewPost(ctx, 1)
	name := "renamed"
	if _, err := f.s.UpdateProfile(ctx, f.u.ID, ProfileUpdate{Nickname: &name}); err != nil {
		t.Fatal(err)
	}
	if got := f.list(t, PostFilter{}).Posts[0].Author.Nickname; got != name {
		t.Errorf("list shows author %q, want %q", got, name)
	}
	if got, _ := f.s.ViewPost(ctx, 1); got.Author.Nickname != name {
		t.Errorf("detail shows author %q, want %q", got.Author.Nickname, name)
	}
	// Closing the account shows its posts as by "deleted user" at once.
	if err := f.s.DeleteAccount(ctx, f.u.ID, "long enough pw"); err != nil {
		t.Fatal(err)
	}
	if got := f.list(t, PostFilter{}).Posts[0].Author.Nickname; got != DeletedNickname {
		t.Errorf("list after closing the account shows author %q, want %q", got, DeletedNickname)
	}
	if got, _ := f.s.ViewPost(ctx, 1); got.Author.Nickname != DeletedNickname {
		t.Errorf("detail after closing the account shows author %q", got.Author.Nickname)
	}
}

// New posts go on top of the pages held for the lists that certainly
// select them, and push the rest down from page to page; what the cache
// cannot tell for certain (a short word, accents, a page whose page before
// is not held) is computed again. Either way every page is what SQLite says.
func TestNewPostsShiftCachedPages(t *testing.T) {
	f := newBoardFixture(t)
	pages := func(pf PostFilter, n int) []PostFilter {
		var fs []PostFilter
		for i := 1; i <= n; i++ {
			pf.Page, pf.PageSize = i, 2
			fs = append(fs, pf)
		}
		return fs
	}
	var shifted []PostFilter // every page cached from page 1 on
	for _, pf := range []PostFilter{{}, {CategoryID: f.cat2}, {Tag: "green"}, {Search: "garden"}, {Search: "garden river"}, {CategoryID: f.cat1, Tag: "green"}} {
		shifted = append(shifted, pages(pf, 5)...)
	}
	computed := []PostFilter{
		{Search: "ga", Page: 1, PageSize: 2},     // short: must begin a word
		{Search: "garden", Page: 2, PageSize: 3}, // page 1 of its size not held
		{Search: "café", Page: 1, PageSize: 2},   // accents
	}
	held := map[PostFilter]bool{} // a page past the end is not held
	for _, pf := range append(shifted, computed...) {
		held[pf] = len(f.list(t, pf).Posts) > 0
	}
	// check lists every page from the cache, then afresh, and compares.
	check := func(after string, searchesKept bool) {
		t.Helper()
		got := map[PostFilter][]int64{}
		for _, pf := range shifted {
			before := f.computed()
			got[pf] = pageIDsOf(f.list(t, pf))
			if n := f.computed() - before; n != 0 && held[pf] && (searchesKept || pf.Search == "") {
				t.Errorf("after %s: page %+v computed again (%d)", after, pf, n)
			}
		}
		for _, pf := range computed {
			got[pf] = pageIDsOf(f.list(t, pf))
		}
		f.s.board.forget()
		for pf, ids := range got {
			if want := pageIDsOf(f.list(t, pf)); !slices.Equal(ids, want) {
				t.Errorf("after %s: page %+v: cached %v, computed afresh %v", after, pf, ids, want)
			}
			held[pf] = len(ids) > 0
		}
	}
	f.post(t, "garden party", "by the river", f.cat2, "green")
	f.post(t, "harbor", "boats", f.cat1, "blue")
	check("plain posts", true)
	f.post(t, "Café garden", "river", f.cat1, "green") // odd: searches cannot tell
	f.post(t, "gate", "garden river", f.cat1, "green")
	check("a post with accents", false)
}

// Many readers of the same cold search at once compute its page and its
// total once.
func TestColdSearchComputedOnce(t *testing.T) {
	f := newBoardFixture(t)
	before := f.computed()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() { f.list(t, PostFilter{Search: "river garden"}) })
	}
	wg.Wait()
	if got := f.computed() - before; got != 2 {
		t.Errorf("32 readers computed %d pages and totals, want 2 (one each)", got)
	}
}

// Totals of the unfiltered list, a category and a tag follow writes by
// counting, not by counting again.
func TestTotalsAreCounters(t *testing.T) {
	f := newBoardFixture(t)
	filters := []PostFilter{{}, {CategoryID: f.cat1}, {Tag: "green"}, {CategoryID: f.cat1, Tag: "green"}, {Search: "garden"}}
	want := make([]int, len(filters))
	for i, pf := range filters {
		want[i] = f.list(t, pf).Total
	}
	f.list(t, PostFilter{Search: "ga"})
	f.post(t, "another garden", "post", f.cat1, "green")
	ctx := context.Background()
	total := func(pf PostFilter) int {
		t.Helper()
		sq, _ := parseSearch(pf.Search)
		tot, err := f.s.board.total(pf.countKey(), newFilterMatch(pf, sq), func() (totalEntry, error) {
			t.Fatalf("total of %+v counted again", pf)
			return totalEntry{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return tot.n
	}
	for i, pf := range filters {
		if got := total(pf); got != want[i]+1 {
			t.Errorf("total of %+v after a post: %d, want %d", pf, got, want[i]+1)
		}
	}
	// A word of two characters must begin a word, which the cache cannot
	// tell: its total is counted again, and right.
	before := f.computed()
	if got := f.list(t, PostFilter{Search: "ga"}).Total; got != want[4]+1 || f.computed() == before {
		t.Errorf("total of a short search after a post: %d, want %d counted again", got, want[4]+1)
	}
	if err := f.s.DeletePost(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := total(PostFilter{CategoryID: f.cat1}); got != want[1] {
		t.Errorf("total of category 1 after deleting one of its posts: %d, want %d", got, want[1])
	}
}

// Posts written at the same moment share commits, and one that fails (an
// unknown category) fails alone.
func TestPostWritesGroupCommit(t *testing.T) {
	f := newBoardFixture(t)
	ctx := context.Background()
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cat := f.cat1
			if i%16 == 5 {
				cat = 999
			}
			_, errs[i] = f.s.CreatePost(ctx, NewPost{AuthorID: f.u.ID, Title: fmt.Sprint("p", i), Content: "c", CategoryID: cat})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if (i%16 == 5) != (err != nil) {
			t.Errorf("post %d: err %v", i, err)
		}
		if err == nil {
			ok++
		}
	}
	page := f.list(t, PostFilter{PageSize: MaxPageSize})
	if page.Total != 6+ok || len(page.Posts) != 6+ok {
		t.Errorf("board holds %d posts (total %d), want %d", len(page.Posts), page.Total, 6+ok)
	}
}

// A search with more matches than the store counts exactly reports an
// estimate, flagged as one, near the truth; pages past it still answer.
func TestSearchTotalEstimatedPastTheCap(t *testing.T) {
	f := newBoardFixture(t)
	for i := range 300 {
		word := "plain"
		if i%3 == 0 {
			word = "common"
		}
		f.post(t, fmt.Sprint("post ", i), "a "+word+" word", f.cat1)
	}
	f.s.countBudget = time.Hour // counts stop at the cap alone, however slow the machine
	exact := f.list(t, PostFilter{Search: "common"})
	if exact.Estimated || exact.Total != 100 {
		t.Fatalf("under the cap: total %d estimated %v, want 100 exact", exact.Total, exact.Estimated)
	}
	f.s.exactTotal = 10
	ForgetCaches(f.s)
	page := f.list(t, PostFilter{Search: "common"})
	if !page.Estimated || page.Total < 50 || page.Total > 200 {
		t.Errorf("past the cap: total %d estimated %v, want an estimate near 100", page.Total, page.Estimated)
	}
	if len(page.Posts) != DefaultPageSize {
		t.Errorf("first page holds %d posts", len(page.Posts))
	}
	last := f.list(t, PostFilter{Search: "common", Page: 5})
	if len(last.Posts) != 20 {
		t.Errorf("page 5 of 100 matches holds %d posts, want 20", len(last.Posts))
	}
}

// A total or first page that new posts overtook while it was computed is
// brought up to date and kept, so that on a busy board a search is not
// counted again and again; one overtaken by a delete is computed again.
func TestOvertakenComputationsCatchUp(t *testing.T) {
	f := newBoardFixture(t)
	ctx := context.Background()
	pf := PostFilter{Search: "garden", Page: 1, PageSize: 20}
	sq, err := parseSearch(pf.Search)
	if err != nil {
		t.Fatal(err)
	}
	m, q := newFilterMatch(pf, sq), pf.query(sq)
	overtake := func() {
		f.post(t, "garden two", "text", f.cat1)
		f.post(t, "harbor", "text", f.cat1)
		f.post(t, "garden three", "text", f.cat2)
	}
	total, err := f.s.board.total(pf.countKey(), m, func() (totalEntry, error) {
		tot, err := f.s.countPosts(ctx, q, true)
		tot.m = m
		overtake()
		return tot, err
	})
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.s.board.page(pf, m, func() (pageEntry, error) {
		ids, err := f.s.pageIDs(ctx, q, pf)
		overtake()
		return pageEntry{ids: ids, m: m}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	// What the readers got was current when they began; what was kept is
	// current now, without computing again.
	before := f.computed()
	got := f.list(t, pf)
	if n := f.computed() - before; n != 0 {
		t.Errorf("overtaken by new posts: computed again (%d)", n)
	}
	if got.Total != 10 || len(got.Posts) != 10 || total.n < 6 || len(page.ids) < 6 {
		t.Errorf("kept total %d and page of %d, want 10 and 10 (the readers got %d and %d)", got.Total, len(got.Posts), total.n, len(page.ids))
	}
	want := f.fresh(t, pf)
	if got.Total != want.Total || !slices.Equal(pageIDsOf(got), pageIDsOf(want)) {
		t.Errorf("kept: total %d, ids %v; afresh: total %d, ids %v", got.Total, pageIDsOf(got), want.Total, pageIDsOf(want))
	}

	f.s.board.forget()
	_, err = f.s.board.total(pf.countKey(), m, func() (totalEntry, error) {
		tot, err := f.s.countPosts(ctx, q, true)
		tot.m = m
		if err := f.s.DeletePost(ctx, got.Posts[0].ID); err != nil {
			t.Fatal(err)
		}
		return tot, err
	})
	if err != nil {
		t.Fatal(err)
	}
	before = f.computed()
	if got := f.list(t, pf); got.Total != want.Total-1 || f.computed() == before {
		t.Errorf("overtaken by a delete: total %d, want %d counted again", got.Total, want.Total-1)
	}
}

// fresh lists pf with the cache emptied first.
func (f *boardFixture) fresh(t *testing.T, pf PostFilter) *PostPage {
	t.Helper()
	f.s.board.forget()
	return f.list(t, pf)
}
