package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Running a community, in real browsers: passwords, invites, moderation
// and leaving.
func TestBrowserCommunity(t *testing.T) {
	c := newChrome(t) // one Chromium for all: starting one is most of the cost
	t.Run("change password", func(t *testing.T) { browserChangePassword(t, c) })
	t.Run("sign up with an invite", func(t *testing.T) { browserInviteSignUp(t, c) })
	t.Run("disabled while in a chat room", func(t *testing.T) { browserDisableInRoom(t, c) })
	t.Run("delete a message live", func(t *testing.T) { browserDeleteMessage(t, c) })
	t.Run("delete an account", func(t *testing.T) { browserDeleteAccount(t, c) })
}

// noticeIs is a JS expression: the page's notice says text.
func noticeIs(text string) string {
	return fmt.Sprintf(`(document.querySelector(".notice") || {}).textContent === %q`, text)
}

// textIn is a JS expression: the element with id contains text.
func textIn(id, text string) string {
	return fmt.Sprintf(`(document.getElementById(%q) || {textContent: ""}).textContent.includes(%q)`, id, text)
}

// A user changes their password on a phone: a wrong current one is
// refused beside its field; the right one keeps this browser logged in,
// logs the other device out, and is the one that logs in from then on.
func browserChangePassword(t *testing.T, c *chrome) {
	e := newTestEnv(t)
	e.register("pat@example.com")
	base, newPw := e.http.URL, "a brand new secret"
	phone := c.tab(t, 360)
	phone.login(base, "pat@example.com")
	laptop := c.tab(t, 1280)
	laptop.login(base, "pat@example.com")

	phone.do(chromedp.Navigate(base + "/profile"))
	phone.leave(chromedp.Click(css(`a[href="/profile/password"]`)))
	phone.noSideways()
	fill := func(old string) {
		phone.do(
			chromedp.SendKeys(css(`#old_password`), old),
			chromedp.SendKeys(css(`#new_password`), newPw),
			chromedp.SendKeys(css(`#new_password2`), newPw),
		)
		phone.leave(chromedp.Submit(css(`#new_password2`)))
	}
	fill("not my password")
	phone.waitJS(textIn("old_password-err", "Your current password is not right."))
	fill(testPassword)
	phone.waitJS(noticeIs("Password changed. Other devices are logged out."))
	phone.do(chromedp.WaitVisible(css(`form[action="/logout"]`)))

	laptop.leave(chromedp.Reload())
	laptop.do(chromedp.WaitVisible(css(`.me a[href^="/login"]`)))

	phone.leave(chromedp.Click(css(`form[action="/logout"] button`)))
	phone.do(chromedp.WaitVisible(css(`.me a[href^="/login"]`)))
	phone.loginWith(base, "pat@example.com", testPassword)
	phone.waitJS(`document.querySelector("main .field-error") !== null`)
	phone.loginWith(base, "pat@example.com", newPw)
	phone.do(chromedp.WaitVisible(css(`form[action="/logout"]`)))
}

// On an invite-only server an admin makes an invite on the admin page and
// passes its link on; the person who opens it signs up with the code
// filled in, and the same link does not work twice.
func browserInviteSignUp(t *testing.T, c *chrome) {
	e := newTestEnvWith(t, Config{Signup: SignupInvite})
	ctx := context.Background()
	if _, err := e.store.CreateUser(ctx, storeUser("admin@example.com")); err != nil {
		t.Fatal(err)
	}
	e.store.SetAdmin(ctx, "admin@example.com", true)
	base := e.http.URL

	admin := c.tab(t, 1280)
	admin.login(base, "admin@example.com")
	admin.do(chromedp.Navigate(base + "/admin"))
	admin.leave(chromedp.Click(css(`.tabs a[href="/admin/invites"]`)))
	admin.leave(chromedp.Submit(css(`#max-uses`))) // the defaults: one person, a week
	admin.do(chromedp.WaitVisible(css(`.notice`)))
	link := value(admin, chromedp.Value(css(`.invites input.copy`)))
	if !strings.HasPrefix(link, base+"/register?invite=") {
		t.Fatalf("the invite's link is %q", link)
	}
	code := strings.TrimPrefix(link, base+"/register?invite=")

	guest := c.tab(t, 360)
	guest.do(chromedp.Navigate(link), chromedp.WaitVisible(css(`#email`)))
	if got := value(guest, chromedp.Value(css(`#invite`))); got != code {
		t.Fatalf("the invite field holds %q, want %q", got, code)
	}
	guest.noSideways()
	guest.do(
		chromedp.SendKeys(css(`#email`), "guest@example.com"),
		chromedp.SendKeys(css(`#password`), testPassword),
		chromedp.SendKeys(css(`#password2`), testPassword),
	)
	guest.leave(chromedp.Submit(css(`#password2`)))
	guest.do(chromedp.WaitVisible(css(`form[action="/logout"]`)))
	if n := guest.text(`.notice`); !strings.Contains(n, "Welcome") {
		t.Fatalf("after sign-up the notice is %q", n)
	}

	// Spent: someone else with the same link is told so.
	other := c.tab(t, 360)
	other.do(
		chromedp.Navigate(link),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "second@example.com"),
		chromedp.SendKeys(css(`#password`), testPassword),
		chromedp.SendKeys(css(`#password2`), testPassword),
	)
	other.leave(chromedp.Submit(css(`#password2`)))
	other.waitJS(textIn("invite-err", "not valid, used up or expired"))
	admin.leave(chromedp.Reload())
	admin.waitJS(`document.querySelector(".invites li .badge").textContent === "Used up"`)
}

// An admin disables a user who sits in a chat room: the user's page says
// at once that the session ended and stops sending, the others see them
// leave, and logging in again is refused with a reason.
func browserDisableInRoom(t *testing.T, c *chrome) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	spammer := e.register("spam@example.com")
	room := e.createRoom(admin, "Lobby")
	base, roomPath := e.http.URL, fmt.Sprintf("%s/chat/%d", e.http.URL, room.ID)

	s := c.tab(t, 360)
	s.login(base, "spam@example.com")
	s.do(chromedp.Navigate(roomPath))
	s.waitJS(chatStatus + ` === "Connected"`)

	a := c.tab(t, 1280)
	a.login(base, "admin@example.com")
	a.do(chromedp.Navigate(roomPath))
	a.waitJS(hasText("#chat-people li", "spam"))
	a.do(chromedp.Navigate(base + "/admin/users?q=spam"))
	a.leave(chromedp.Click(css(fmt.Sprintf(`a[href="/admin/users/%d/disable?q=spam"]`, spammer.ID))))
	if q := a.text(`#confirm-head`); q != "Disable the account of spam@example.com?" {
		t.Fatalf("confirmation asks %q", q)
	}
	a.leave(chromedp.Click(css(`.confirm button.danger`)))
	a.waitJS(noticeIs("spam@example.com is disabled and logged out everywhere"))

	s.waitJS(chatStatus + ` === "Your session has ended. Log in again to chat."`)
	s.waitJS(`document.querySelector("#chat-form button[type=submit]").disabled`)
	a.do(chromedp.Navigate(roomPath))
	a.waitJS(chatStatus + ` === "Connected" && !` + hasText("#chat-people li", "spam"))

	s.leave(chromedp.Reload())
	s.do(chromedp.WaitVisible(css(`#email`))) // sent to the login page
	s.loginWith(base, "spam@example.com", testPassword)
	s.waitJS(`[...document.querySelectorAll("main .field-error")].some(p => p.textContent.includes("This account has been disabled."))`)
}

// An admin deletes a message from the room page: it leaves the page of
// everyone in the room at once, without a reload.
func browserDeleteMessage(t *testing.T, c *chrome) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	user := e.register("user@example.com")
	room := e.createRoom(user, "Lobby")
	e.sendMessage(user, room.ID, "keep this")
	roomPath := fmt.Sprintf("%s/chat/%d", e.http.URL, room.ID)

	u := c.tab(t, 360)
	u.login(e.http.URL, "user@example.com")
	u.do(chromedp.Navigate(roomPath))
	u.waitJS(chatStatus + ` === "Connected"`)
	if n := eval[int](u, `document.querySelectorAll(".msg-del").length`); n != 0 {
		t.Fatalf("a user sees %d delete links", n)
	}
	a := c.tab(t, 1280)
	a.login(e.http.URL, "admin@example.com")
	a.do(chromedp.Navigate(roomPath))
	a.waitJS(chatStatus + ` === "Connected"`)

	// A message that arrives live gets its delete link too.
	bad := e.sendMessage(user, room.ID, "something nasty")
	u.waitJS(hasText("#chat-msgs .msg .text", "something nasty"))
	link := fmt.Sprintf(`#m-%d a.msg-del[href="/admin/messages/%d/delete"]`, bad.ID, bad.ID)
	a.do(chromedp.WaitVisible(css(link)))
	a.leave(chromedp.Click(css(link)))
	if q := a.text(`.confirm .quote`); q != "something nasty" {
		t.Fatalf("the confirmation quotes %q", q)
	}
	a.leave(chromedp.Click(css(`.confirm button.danger`)))
	a.waitJS(noticeIs("Message deleted"))

	u.waitJS(`!` + hasText("#chat-msgs .msg .text", "something nasty") + ` && ` + hasText("#chat-msgs .msg .text", "keep this"))
	a.waitJS(chatStatus + ` === "Connected" && !` + hasText("#chat-msgs .msg .text", "something nasty"))
}

// A user deletes their account from the profile page, with their
// password: they are logged out with a goodbye, and cannot log in again.
func browserDeleteAccount(t *testing.T, c *chrome) {
	e := newTestEnv(t)
	u := e.register("leaving@example.com")
	e.writePost(u, map[string]any{"title": "Still here", "content": "after I go"})
	base := e.http.URL
	tb := c.tab(t, 360)
	tb.login(base, "leaving@example.com")
	tb.do(chromedp.Navigate(base + "/profile"))
	tb.leave(chromedp.Click(css(`a[href="/profile/delete"]`)))
	tb.noSideways()
	tb.do(chromedp.SendKeys(css(`#password`), "not my password"))
	tb.leave(chromedp.Submit(css(`#password`)))
	tb.waitJS(textIn("password-err", "The password is not correct."))
	tb.do(chromedp.SendKeys(css(`#password`), testPassword))
	tb.leave(chromedp.Submit(css(`#password`)))
	tb.waitJS(noticeIs("Your account is deleted. Goodbye!"))
	tb.do(chromedp.WaitVisible(css(`.me a[href^="/login"]`)))
	// Their post stays, by "deleted user".
	tb.waitJS(hasText(".posts .post-title", "Still here") + ` && document.body.textContent.includes("deleted user")`)
	tb.loginWith(base, "leaving@example.com", testPassword)
	tb.waitJS(`document.querySelector("main .field-error") !== null`)
}
