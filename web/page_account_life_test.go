package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Changing the password on its page keeps this browser logged in and logs
// out every other.
func TestPasswordPage(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("pw@example.com")
	here, there := e.browser(), e.browser()
	here.login(u.Email)
	there.login(u.Email)

	here.get("/profile/password").wantStatus(http.StatusOK).wantBody(`for="old_password"`, `for="new_password2"`)
	res := here.post("/profile/password", url.Values{"old_password": {"wrong"}, "new_password": {"a new password"}, "new_password2": {"a new password"}})
	res.wantStatus(http.StatusBadRequest).wantBody("Your current password is not right.").wantNoBody(`value="wrong"`, `value="a new password"`)
	res = here.post("/profile/password", url.Values{"old_password": {testPassword}, "new_password": {"a new password"}, "new_password2": {"another"}})
	res.wantStatus(http.StatusBadRequest).wantBody("The two passwords differ.")
	there.get("/").wantBody(`action="/logout"`) // nothing changed yet

	res = here.post("/profile/password", url.Values{"old_password": {testPassword}, "new_password": {"a new password"}, "new_password2": {"a new password"}})
	if loc := res.wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/profile" {
		t.Fatalf("after a change: to %q", loc)
	}
	here.get("/").wantBody(`action="/logout"`, "Password changed.")
	there.get("/").wantNoBody(`action="/logout"`)
	e.browser().get("/profile/password").wantStatus(http.StatusSeeOther) // login first
}

func TestDeleteAccountPage(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("bye@example.com")
	b := e.browser()
	b.login(u.Email)
	b.get("/profile/delete").wantStatus(http.StatusOK).wantBody("cannot be undone", `href="/mysite/user/v1/export/"`)
	b.post("/profile/delete", url.Values{"password": {"wrong"}}).wantStatus(http.StatusBadRequest).wantBody("The password is not correct.")
	b.follow(b.post("/profile/delete", url.Values{"password": {testPassword}})).wantBody("Your account is deleted.").wantNoBody(`action="/logout"`)
	e.do("POST", "/user/login/", "", map[string]string{"email": u.Email, "password": testPassword}).wantStatus(http.StatusBadRequest)
}

func TestResetLinkPage(t *testing.T) {
	e := newTestEnv(t)
	admin, u := e.register("admin@example.com"), e.register("forgot@example.com")
	e.makeAdmin(admin)
	var link resetLinkJSON
	e.do("POST", "/api/admin/users/"+itoa(u.ID)+"/reset-link/", admin.Access, nil).wantStatus(http.StatusCreated).decode(&link)
	if !strings.HasPrefix(link.URL, "/reset/") {
		t.Fatalf("link %q", link.URL)
	}
	b := e.browser()
	b.get(link.URL).wantStatus(http.StatusOK).wantBody("For forgot@example.com")
	b.post(link.URL, url.Values{"password": {"short"}, "password2": {"short"}}).wantStatus(http.StatusBadRequest).wantBody("too short")
	res := b.post(link.URL, url.Values{"password": {"my new password"}, "password2": {"my new password"}})
	b.follow(res).wantBody("Password set.")
	// Used once, it is dead.
	b.get(link.URL).wantStatus(http.StatusNotFound).wantBody("invalid, used or expired")
	b.post(link.URL, url.Values{"password": {"again password"}, "password2": {"again password"}}).wantStatus(http.StatusNotFound)
	b.get("/reset/made-up-secret").wantStatus(http.StatusNotFound)
	e.do("POST", "/user/login/", "", map[string]string{"email": u.Email, "password": "my new password"}).wantStatus(http.StatusOK)
}

func TestRegisterWithInvitePage(t *testing.T) {
	e := newTestEnvWith(t, Config{Signup: SignupInvite})
	admin, err := e.store.CreateUser(context.Background(), storeUser("admin@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := e.store.CreateInvite(context.Background(), admin.ID, 1, 0)
	b := e.browser()
	b.get("/register?invite="+inv.Code).wantStatus(http.StatusOK).wantBody(`value="`+inv.Code+`"`, "by invitation")
	form := url.Values{"email": {"new@example.com"}, "password": {testPassword}, "password2": {testPassword}}
	b.post("/register", form).wantStatus(http.StatusBadRequest).wantBody(`id="invite-err"`, "This field is required.")
	form.Set("invite", inv.Code)
	b.follow(b.post("/register", form)).wantBody("Welcome to maru!")

	closed := newTestEnvWith(t, Config{Signup: SignupClosed})
	cb := closed.browser()
	cb.get("/register").wantStatus(http.StatusOK).wantBody("Sign-up is closed").wantNoBody(`action="/register"`)
	cb.post("/register", form).wantStatus(http.StatusForbidden).wantBody("Sign-up is closed")
}
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
