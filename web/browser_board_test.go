package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A person at phone width signs up, writes a post with tags, finds it by
// search and by tag, edits it and deletes it; neither the board nor the
// post page scrolls sideways on the way.
func TestBrowserPostLifecycle(t *testing.T) {
	c := newChrome(t)
	e := newTestEnv(t)
	base := e.http.URL
	// Someone else's long words and links must not widen the pages either.
	other := e.register("wide@example.com")
	e.writePost(other, map[string]any{
		"title":   strings.Repeat("가나다라마바사", 12),
		"content": "https://example.com/" + strings.Repeat("a", 200) + "\n\n```\n" + strings.Repeat("x", 300) + "\n```\n\n| a | b | c | d | e | f |\n|---|---|---|---|---|---|\n| " + strings.Repeat("wide ", 30) + " | 2 | 3 | 4 | 5 | 6 |",
		"tags":    []string{strings.Repeat("t", 30), "긴태그긴태그긴태그긴태그"},
	})
	tb := c.tab(t, 360)
	tb.do(
		chromedp.Navigate(base+"/register"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "writer@example.com"),
		chromedp.SendKeys(css(`#password`), testPassword),
		chromedp.SendKeys(css(`#password2`), testPassword),
		chromedp.Submit(css(`#password2`)),
		chromedp.WaitVisible(css(`form[action="/logout"]`)),
		chromedp.Click(css(`form[action="/logout"] button`)),
		chromedp.WaitVisible(css(`a[href="/login"]`)),
	)
	tb.login(base, "writer@example.com")
	tb.noSideways()

	// Write.
	tb.do(
		chromedp.Click(css(`a.button[href^="/posts/new"]`)),
		chromedp.WaitVisible(css(`#title`)),
		chromedp.SendKeys(css(`#title`), "Saturday hike"),
		chromedp.SendKeys(css(`#content`), "Meet at **9 am** by the station.\nBring water."),
		chromedp.SendKeys(css(`#tags`), "outdoors, 주말"),
		chromedp.Click(css(`button.primary[type=submit]`)),
		chromedp.WaitVisible(css(`article.post`)),
	)
	if n := tb.text(`.notice`); n != "Post published" {
		t.Fatalf("notice after writing: %q", n)
	}
	if h := tb.text(`article.post h1`); h != "Saturday hike" {
		t.Fatalf("post title %q", h)
	}
	if b := tb.text(`.content strong`); b != "9 am" {
		t.Fatalf("Markdown bold %q", b)
	}
	tb.noSideways()

	// Find it by search, then by its tag.
	tb.do(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css(`#search`)),
		chromedp.SendKeys(css(`#search`), "hike"),
		chromedp.Submit(css(`#search`)),
		chromedp.WaitVisible(css(`#search[value="hike"]`)),
	)
	if titles := tb.text(`ul.posts`); !strings.Contains(titles, "Saturday hike") || strings.Contains(titles, "가나다") {
		t.Fatalf("search for hike shows %q", titles)
	}
	tb.noSideways()
	tb.do(
		chromedp.Click(css(`ul.posts a.tag[href="/?tag=%ec%a3%bc%eb%a7%90"]`)),
		chromedp.WaitVisible(css(`#tag[value="주말"]`)),
	)
	if titles := tb.text(`ul.posts`); !strings.Contains(titles, "Saturday hike") {
		t.Fatalf("tag 주말 shows %q", titles)
	}

	// Edit.
	tb.do(
		chromedp.Click(css(`ul.posts a.post-title`)),
		chromedp.WaitVisible(css(`a[href$="/edit"]`)),
		chromedp.Click(css(`a[href$="/edit"]`)),
		chromedp.WaitVisible(css(`#title`)),
		chromedp.Clear(css(`#title`)),
		chromedp.SendKeys(css(`#title`), "Sunday hike"),
		chromedp.Click(css(`button.primary[type=submit]`)),
		chromedp.WaitVisible(css(`article.post`)),
	)
	if n, h := tb.text(`.notice`), tb.text(`article.post h1`); n != "Saved" || h != "Sunday hike" {
		t.Fatalf("after editing: notice %q, title %q", n, h)
	}

	// Delete, behind its confirmation.
	tb.do(
		chromedp.Click(css(`a[href$="/delete"]`)),
		chromedp.WaitVisible(css(`.confirm button.danger`)),
		chromedp.Click(css(`.confirm button.danger`)),
		chromedp.WaitVisible(css(`.notice`)),
	)
	if n := tb.text(`.notice`); n != "Post deleted" {
		t.Fatalf("after deleting: notice %q", n)
	}
	if titles := tb.text(`ul.posts`); strings.Contains(titles, "hike") {
		t.Fatalf("the board still shows the deleted post: %q", titles)
	}
	tb.noSideways()

	// The long-worded post's page is as narrow as the phone.
	tb.do(
		chromedp.Click(css(`ul.posts a.post-title`)),
		chromedp.WaitVisible(css(`article.post`)),
	)
	tb.noSideways()
}
