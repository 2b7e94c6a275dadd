package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser tests drive a real headless Chromium (Debian's chromium) through
// chromedp. Without a Chromium they skip, except under CI, where a skipped
// browser test would hide a broken page: there they fail.

// browserWait bounds one browser step (a navigation, a wait for an element).
const browserWait = 20 * time.Second

// chrome is one Chromium process; each tab is a separate browser context,
// with cookies of its own, as two people on two machines.
type chrome struct {
	browser context.Context
}

// chromePath finds the Chromium binary: $CHROME, else the usual names.
func chromePath() string {
	if p := os.Getenv("CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newChrome starts Chromium for t and stops it when t ends.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	path := chromePath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium found, and CI is set: .ci/run must install it")
		}
		t.Skip("no Chromium found (set $CHROME or install Debian's chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first run on a context starts what it stands for (here the
	// browser, for a tab its page), which then lives as long as that run's
	// context: so first runs get no timeout, unlike every later step.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &chrome{browser: browser}
}

// tab is one page in a browser context of its own.
type tab struct {
	t     *testing.T
	ctx   context.Context
	width int
	shots int
}

// tab opens a new browser context (its own cookies) with a viewport width
// wide and a phone's or a desktop's height.
func (c *chrome) tab(t *testing.T, width int) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(c.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx, width: width}
	if width < 600 {
		tb.do(chromedp.EmulateViewport(int64(width), 780, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	} else {
		tb.do(chromedp.EmulateViewport(int64(width), 900))
	}
	return tb
}

// do runs steps, each bounded by browserWait. On failure it saves a
// screenshot of the page and fails the test, naming the file.
func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	for _, step := range steps {
		ctx, cancel := context.WithTimeout(tb.ctx, browserWait)
		err := chromedp.Do(ctx, step)
		cancel()
		if err != nil {
			tb.t.Fatalf("browser: %v (screenshot: %s)", err, tb.failShot())
		}
	}
}

// leave runs steps that leave the page (submitting a form, following a
// link) and waits until the next page has loaded: a step that looks at
// the page meanwhile could see the old one, or fail as it goes away.
func (tb *tab) leave(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	tb.do(chromedp.Evaluate[chromedp.Void](`window.maruLeaving = true`))
	tb.do(steps...)
	deadline := time.Now().Add(browserWait)
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, time.Second)
		// Errors are the page going away under the question: ask again.
		fresh, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.maruLeaving && document.readyState === "complete"`))
		cancel()
		if err == nil && fresh {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("browser: the page was not left within %v (screenshot: %s)", browserWait, tb.failShot())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// value runs one action that gives a value, failing the test like do.
func value[T any](tb *tab, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserWait)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("browser: %v (screenshot: %s)", err, tb.failShot())
	}
	return v
}

// text is the visible text of the first element that matches the CSS
// selector sel, waiting for it to appear.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return value(tb, chromedp.Text(chromedp.CSS(sel)))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	return value(tb, chromedp.Evaluate[T](expr))
}

// failShot saves what the page shows into a directory that outlives the
// test, so a failure can be looked at.
func (tb *tab) failShot() string {
	dir, err := os.MkdirTemp("", "maru-browser-"+strings.ReplaceAll(tb.t.Name(), "/", "_")+"-")
	if err != nil {
		return "none: " + err.Error()
	}
	tb.shots++
	path := filepath.Join(dir, fmt.Sprintf("failure-%d.png", tb.shots))
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "none: " + err.Error()
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "none: " + err.Error()
	}
	return path
}

// noSideways checks that the page now shown does not scroll sideways.
func (tb *tab) noSideways() {
	tb.t.Helper()
	type widths struct {
		Scroll, Inner int
		URL           string
	}
	w := eval[widths](tb, `({Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth, URL: location.pathname})`)
	if w.Scroll > w.Inner {
		tb.t.Errorf("%s scrolls sideways at %d px: content %d px wide (screenshot: %s)", w.URL, tb.width, w.Scroll, tb.failShot())
	}
}

// css is a CSS selector, for brevity in the steps.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// login logs the tab in through the login page.
func (tb *tab) login(base, email string) {
	tb.t.Helper()
	tb.loginWith(base, email, testPassword)
	tb.do(chromedp.WaitVisible(css(`form[action="/logout"]`)))
}

// loginWith submits the login page with email and password, and waits
// for the page that answers: the logged-in one, or the refusal.
func (tb *tab) loginWith(base, email, password string) {
	tb.t.Helper()
	tb.do(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), email),
		chromedp.SendKeys(css(`#password`), password),
	)
	tb.leave(chromedp.Submit(css(`#password`)))
}

// A person signs up, is logged in, logs out and in again, in a real
// browser at phone width, and no page on the way scrolls sideways.
func TestBrowserSignUpAndLogin(t *testing.T) {
	c := newChrome(t)
	e := newTestEnv(t)
	tb := c.tab(t, 360)
	tb.do(
		chromedp.Navigate(e.http.URL+"/register"),
		chromedp.WaitVisible(css(`#email`)),
	)
	tb.noSideways()
	tb.do(
		chromedp.SendKeys(css(`#email`), "mina@example.com"),
		chromedp.SendKeys(css(`#nickname`), "미나"),
		chromedp.SendKeys(css(`#password`), testPassword),
		chromedp.SendKeys(css(`#password2`), testPassword),
		chromedp.Submit(css(`#password2`)),
		chromedp.WaitVisible(css(`.notice`)),
	)
	if notice := tb.text(`.notice`); !strings.Contains(notice, "Welcome") {
		t.Fatalf("after sign-up the notice is %q", notice)
	}
	tb.noSideways()
	tb.do(
		chromedp.Click(css(`form[action="/logout"] button`)),
		chromedp.WaitVisible(css(`a[href="/login"]`)),
	)
	tb.login(e.http.URL, "mina@example.com")
	if who := tb.text(`.who .name`); who != "미나" {
		t.Fatalf("logged in as %q, want 미나", who)
	}
}
