package web

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The people pages in a real browser. One Chromium serves every case:
// starting it is the slowest step of a browser test.
func TestBrowserPeople(t *testing.T) {
	c := newChrome(t)
	t.Run("profile picture", func(t *testing.T) { browserProfilePicture(t, c) })
	t.Run("friends", func(t *testing.T) { browserFriends(t, c) })
	t.Run("admin category then post", func(t *testing.T) { browserAdminCategoryThenPost(t, c) })
	t.Run("pages fit a phone", func(t *testing.T) { browserPeoplePagesFitPhone(t, c) })
}

// A person picks a picture, sees it before saving, saves, and sees it on
// their profile, loaded from its stored URL.
func browserProfilePicture(t *testing.T, c *chrome) {
	e := newTestEnv(t)
	e.register("pic@example.com")
	file := filepath.Join(t.TempDir(), "me.png")
	if err := os.WriteFile(file, pngBytes(t, testImage(640, 480, true)), 0o600); err != nil {
		t.Fatal(err)
	}
	tb := c.tab(t, 360)
	tb.login(e.http.URL, "pic@example.com")
	tb.do(
		chromedp.Navigate(e.http.URL+"/profile/edit"),
		chromedp.WaitVisible(css(`#profile_picture`)),
	)
	tb.noSideways()
	tb.do(
		chromedp.SetUploadFiles(css(`#profile_picture`), []string{file}),
		chromedp.WaitVisible(css(`#picture-preview`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("picture-preview").src.startsWith("blob:") && document.getElementById("picture-preview").naturalWidth > 0`),
		chromedp.Click(css(`form[action="/profile/edit"] button.primary`)),
		chromedp.WaitVisible(css(`.notice`)),
		chromedp.WaitVisible(css(`#profile-picture`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("profile-picture").complete && document.getElementById("profile-picture").naturalWidth > 0`),
	)
	if notice := tb.text(`.notice`); notice != "Saved" {
		t.Fatalf("notice %q, want Saved", notice)
	}
	src := eval[string](tb, `document.getElementById("profile-picture").getAttribute("src")`)
	if !strings.HasPrefix(src, "/media/pictures/") {
		t.Fatalf("profile picture src %q, want a stored picture", src)
	}
	// The header's avatar shows it too.
	if got := eval[string](tb, `document.querySelector(".who img.avatar").getAttribute("src")`); got != src {
		t.Fatalf("header avatar %q, want %q", got, src)
	}
	tb.noSideways()
}

// A person finds someone by email, adds them, sees the notice and the
// entry, removes them again; a private profile they were not added to is
// refused.
func browserFriends(t *testing.T, c *chrome) {
	e := newTestEnv(t)
	e.register("me@example.com")
	ann := e.register("ann@example.com")
	priv := e.register("priv@example.com")
	e.do("PATCH", "/mysite/user/v1/profile/edit/", priv.Access, map[string]any{"is_private": true}).wantStatus(200)
	e.do("POST", "/user/add-friend/", ann.Access, map[string]string{"email": "me@example.com"}).wantStatus(201)

	tb := c.tab(t, 360)
	tb.login(e.http.URL, "me@example.com")
	tb.do(
		chromedp.Navigate(e.http.URL+"/friends"),
		chromedp.WaitVisible(css(`#q`)),
		chromedp.SendKeys(css(`#q`), "ann@"),
		chromedp.Submit(css(`#q`)),
		chromedp.WaitVisible(css(`.results-head`)),
	)
	tb.noSideways()
	tb.leave(chromedp.Click(css(`form[action="/friends/add"] button`)))
	if n := tb.text(`.notice`); n != "ann@example.com added" {
		t.Fatalf("notice %q after adding", n)
	}
	// Ann had added me: the entry is mutual.
	if got := tb.text(`#mine-head + .list .badge`); got != "Mutual" {
		t.Fatalf("badge %q on my list, want Mutual", got)
	}
	// leave, not a wait for the notice: the page being left has one too.
	tb.leave(chromedp.Click(css(`#mine-head + .list form[action="/friends/remove"] button`)))
	if n := tb.text(`.notice`); n != "ann@example.com removed" {
		t.Fatalf("notice %q after removing", n)
	}
	if got := tb.text(`#mine-head`); got != "My list (0)" {
		t.Fatalf("list head %q after removing", got)
	}
	tb.do(
		chromedp.Navigate(e.http.URL+"/users/"+strconv.FormatInt(priv.ID, 10)),
		chromedp.WaitVisible(css(`.error-page`)),
	)
	if got := tb.text(`.error-page .status`); got != "403" {
		t.Fatalf("private profile shows status %q, want the 403 page", got)
	}
	tb.noSideways()
}

// An admin creates a category on the admin page; a user files a post under
// it, and the post carries it.
func browserAdminCategoryThenPost(t *testing.T, c *chrome) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	user := e.register("user@example.com")

	tb := c.tab(t, 1280)
	tb.login(e.http.URL, "admin@example.com")
	tb.do(
		chromedp.Navigate(e.http.URL+"/admin"),
		chromedp.WaitVisible(css(`.stats`)),
		chromedp.Click(css(`.tabs a[href="/admin/categories"]`)),
		chromedp.WaitVisible(css(`#new-name`)),
		chromedp.SendKeys(css(`#new-name`), "공지"),
		chromedp.Submit(css(`#new-name`)),
		chromedp.WaitVisible(css(`.notice`)),
	)
	if n := tb.text(`.notice`); n != "Category 공지 created" {
		t.Fatalf("notice %q", n)
	}
	cats, err := e.store.Categories(t.Context())
	if err != nil || len(cats) != 1 || cats[0].Name != "공지" {
		t.Fatalf("categories %+v, %v", cats, err)
	}
	var p struct {
		ID       int64
		Category int64
	}
	e.do("POST", "/api/post/write", user.Access, map[string]any{"title": "첫 공지", "content": "안녕하세요", "category": cats[0].ID}).
		wantStatus(201).decode(&p)
	if p.Category != cats[0].ID {
		t.Fatalf("post filed under %d, want %d", p.Category, cats[0].ID)
	}
	ut := c.tab(t, 360)
	ut.login(e.http.URL, "user@example.com")
	ut.do(chromedp.Navigate(e.http.URL+"/"), chromedp.WaitVisible(css(`a[href="/posts/`+strconv.FormatInt(p.ID, 10)+`"]`)))
}

// None of the people pages scrolls sideways on a phone, even with long
// names, addresses and statuses.
func browserPeoplePagesFitPhone(t *testing.T, c *chrome) {
	e := newTestEnv(t)
	long := strings.Repeat("길", 50)
	admin := e.register("a.very.long.address.for.testing.wrapping@subdomain.example.com")
	e.makeAdmin(admin)
	other := e.register("another.quite.long.address.for.wrapping@example.org")
	for _, u := range []*testUser{admin, other} {
		e.do("PATCH", "/mysite/user/v1/profile/edit/", u.Access, map[string]any{
			"nickname": long, "status": strings.Repeat("status words ", 15), "contact_number": "+82 (10) 1234-5678-9012",
		}).wantStatus(200)
	}
	e.do("POST", "/user/add-friend/", admin.Access, map[string]string{"email": other.Email}).wantStatus(201)
	cat, err := e.store.CreateCategory(t.Context(), strings.Repeat("카", 50))
	if err != nil {
		t.Fatal(err)
	}
	tb := c.tab(t, 360)
	tb.login(e.http.URL, admin.Email)
	for _, path := range []string{
		"/profile", "/profile/edit", "/users/" + strconv.FormatInt(other.ID, 10), "/friends", "/friends?q=example",
		"/admin", "/admin/categories", "/admin/categories/" + strconv.FormatInt(cat.ID, 10) + "/delete", "/admin/users?q=example",
	} {
		tb.do(chromedp.Navigate(e.http.URL+path), chromedp.WaitVisible(css(`main h1`)))
		tb.noSideways()
	}
}
