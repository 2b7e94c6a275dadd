package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// From the users page an admin disables an account (after a confirmation
// page), sees it listed as disabled, and enables it again; their own
// account offers no such button and refuses the request.
func TestAdminDisablePage(t *testing.T) {
	e := newTestEnv(t)
	admin, user := e.register("admin@example.com"), e.register("user@example.com")
	e.makeAdmin(admin)
	b := e.browser()
	b.login(admin.Email)
	victim := e.browser()
	victim.login(user.Email)
	uid := strconv.FormatInt(user.ID, 10)

	b.get("/admin/users?q=user").wantStatus(http.StatusOK).
		wantBody(`href="/admin/users/`+uid+`/disable?q=user"`, `action="/admin/users/`+uid+`/reset-link"`)
	b.get("/admin/users/"+uid+"/disable?q=user").wantStatus(http.StatusOK).
		wantBody("Disable the account of user@example.com?", `action="/admin/users/`+uid+`/disable?q=user"`, `href="/admin/users?q=user"`)
	res := b.post("/admin/users/"+uid+"/disable?q=user", nil).wantStatus(http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/admin/users?q=user" {
		t.Fatalf("disable went to %q", loc)
	}
	b.get("/admin/users?q=user").wantBody("user@example.com is disabled", ">Disabled<", `action="/admin/users/`+uid+`/enable"`)
	// Without a search the page lists the disabled accounts.
	b.get("/admin/users").wantBody("Disabled accounts (1)", "user@example.com")
	// The user's browser is logged out and cannot log in again.
	victim.get("/profile").wantStatus(http.StatusSeeOther)
	victim.post("/login", url.Values{"email": {user.Email}, "password": {testPassword}}).
		wantStatus(http.StatusBadRequest).wantBody("This account has been disabled.")

	b.follow(b.post("/admin/users/"+uid+"/enable", url.Values{"q": {""}})).wantBody("user@example.com may log in again").
		wantNoBody("Disabled accounts")
	victim.login(user.Email)

	// Not myself: no button, and the request is refused with a message.
	aid := strconv.FormatInt(admin.ID, 10)
	b.get("/admin/users?q=admin").wantNoBody(`/admin/users/` + aid + `/disable`)
	b.post("/admin/users/"+aid+"/disable", nil).wantStatus(http.StatusBadRequest).
		wantBody(`role="alert"`, "You cannot do this to your own account")
	b.get("/admin/users/999999/disable").wantStatus(http.StatusNotFound)
	b.post("/admin/users/999999/enable", nil).wantStatus(http.StatusNotFound)
	e.wantAudit(admin.Email, "user.enable", "user.disable")
}

// A reset link is shown once, whole, to pass on.
func TestAdminResetLinkPage(t *testing.T) {
	e := newTestEnv(t)
	admin, user := e.register("admin@example.com"), e.register("user@example.com")
	e.makeAdmin(admin)
	b := e.browser()
	b.login(admin.Email)
	res := b.post(fmt.Sprintf("/admin/users/%d/reset-link", user.ID), url.Values{"q": {"user"}}).wantStatus(http.StatusOK).
		wantBody("For user@example.com", `value="`+e.http.URL+`/reset/`, `href="/admin/users?q=user"`)
	body := string(res.Body)
	start := strings.Index(body, `value="`+e.http.URL+`/reset/`) + len(`value="`+e.http.URL)
	link := body[start : start+strings.IndexByte(body[start:], '"')]
	e.browser().get(link).wantStatus(http.StatusOK).wantBody("user@example.com")
	b.post("/admin/users/999999/reset-link", nil).wantStatus(http.StatusNotFound)
}

// Admins create invites with or without limits, share their link, and
// revoke them; bad numbers are refused on the form.
func TestAdminInvitesPage(t *testing.T) {
	e := newTestEnvWith(t, Config{Signup: SignupInvite, BaseURL: "https://club.example.org"})
	ctx := context.Background()
	admin, err := e.store.CreateUser(ctx, storeUser("admin@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	e.store.SetAdmin(ctx, admin.Email, true)
	b := e.browser()
	b.login(admin.Email)

	b.get("/admin/invites").wantStatus(http.StatusOK).
		wantBody("Sign-up is by invitation", `name="max_uses"`, `value="1"`, `value="7"`, "No invites yet.")
	page := b.follow(b.post("/admin/invites", url.Values{"max_uses": {"5"}, "expires_in_days": {"0"}}))
	invs, _ := e.store.Invites(ctx)
	if len(invs) != 1 || invs[0].MaxUses != 5 || !invs[0].ExpiresAt.IsZero() {
		t.Fatalf("invites %+v", invs)
	}
	page.wantBody("Invite "+invs[0].Code+" created", `value="https://club.example.org/register?invite=`+invs[0].Code+`"`,
		"0 of 5 used", "never expires", "Active")

	b.post("/admin/invites", url.Values{"max_uses": {"many"}, "expires_in_days": {"400"}}).wantStatus(http.StatusBadRequest).
		wantBody(`id="max-uses-err"><p class="field-error">Enter a whole number.`, `value="many"`)
	b.post("/admin/invites", url.Values{"max_uses": {"0"}}).wantStatus(http.StatusBadRequest).
		wantBody(`id="max-uses-err"><p class="field-error">Enter a number from 1 to 1000.`)
	b.post("/admin/invites", url.Values{"expires_in_days": {"400"}}).wantStatus(http.StatusBadRequest).
		wantBody(`id="days-err"><p class="field-error">Enter a number from 0 to 365.`)

	b.follow(b.post(fmt.Sprintf("/admin/invites/%d/revoke", invs[0].ID), nil)).wantBody("Invite revoked", "Revoked").
		wantNoBody(`value="https://club.example.org/register?invite=`)
	b.post(fmt.Sprintf("/admin/invites/%d/revoke", invs[0].ID), nil).wantStatus(http.StatusNotFound)
	e.wantAudit(admin.Email, "invite.revoke", "invite.create")

	// In other sign-up modes the page says what invites do there.
	open := newTestEnv(t)
	a := open.register("admin@example.com")
	open.makeAdmin(a)
	ob := open.browser()
	ob.login(a.Email)
	ob.get("/admin/invites").wantBody("Sign-up is open", `class="alert"`)
}

// The rooms page deletes a room after saying how many messages go with
// it; a room deleted already is the 404 page.
func TestAdminRoomsPage(t *testing.T) {
	e := newTestEnv(t)
	admin, user := e.register("admin@example.com"), e.register("user@example.com")
	e.makeAdmin(admin)
	room := e.createRoom(user, "Spam corner")
	e.sendMessage(user, room.ID, "one")
	e.sendMessage(user, room.ID, "two")
	b := e.browser()
	b.login(admin.Email)
	path := fmt.Sprintf("/admin/rooms/%d/delete", room.ID)

	b.get("/admin/rooms").wantStatus(http.StatusOK).wantBody("Rooms (1)", "Spam corner", `href="`+path+`"`)
	b.get(path).wantStatus(http.StatusOK).wantBody("Delete the room “Spam corner”?", "Its 2 messages are deleted with it")
	b.follow(b.post(path, nil)).wantBody("Room Spam corner deleted", "No rooms yet.")
	b.post(path, nil).wantStatus(http.StatusNotFound).wantBody("Page not found")
	b.get(path).wantStatus(http.StatusNotFound)
	e.wantAudit(admin.Email, "room.delete")
}

// On a room page admins see a delete link beside each message, and a
// link to delete the room; others see neither.
func TestAdminMessageDeletePage(t *testing.T) {
	e := newTestEnv(t)
	admin, user := e.register("admin@example.com"), e.register("user@example.com")
	e.makeAdmin(admin)
	room := e.createRoom(user, "Lobby")
	bad := e.sendMessage(user, room.ID, "a line\nthat hurts")
	b := e.browser()
	b.login(admin.Email)
	ub := e.browser()
	ub.login(user.Email)
	roomPage := fmt.Sprintf("/chat/%d", room.ID)
	del := fmt.Sprintf("/admin/messages/%d/delete", bad.ID)

	b.get(roomPage).wantBody(`href="`+del+`"`, `data-admin="true"`, fmt.Sprintf(`href="/admin/rooms/%d/delete"`, room.ID))
	ub.get(roomPage).wantNoBody("/admin/messages/", "data-admin", "/admin/rooms/")
	b.get(del).wantStatus(http.StatusOK).wantBody("Delete this message by user?", "a line\nthat hurts",
		fmt.Sprintf(`href="/chat/%d#m-%d"`, room.ID, bad.ID))
	res := b.post(del, nil).wantStatus(http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != roomPage {
		t.Fatalf("went to %q, want the room", loc)
	}
	b.get(roomPage).wantBody("Message deleted").wantNoBody("that hurts")
	b.post(del, nil).wantStatus(http.StatusNotFound)
	e.wantAudit(admin.Email, "message.delete")
}

// The audit log page shows entries newest first, in words, a page at a
// time.
func TestAdminAuditPage(t *testing.T) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	ctx := context.Background()
	for i := range defaultAuditPage + 3 {
		if err := e.store.Audit(ctx, nil, "invite.create", fmt.Sprintf("invite %d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.Audit(ctx, nil, "something.new", "thing 1", "detail words"); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login(admin.Email)
	page := b.get("/admin/audit").wantStatus(http.StatusOK).
		wantBody("something.new", "thing 1", "detail words", "created an invite", "invite 52", "Older entries").
		wantNoBody("invite 2<", "Newest entries")
	if strings.Index(string(page.Body), "something.new") > strings.Index(string(page.Body), "invite 52") {
		t.Fatal("the newest entry is not first")
	}
	log, _ := e.store.AuditLog(ctx, 0, defaultAuditPage)
	older := log[len(log)-1].ID
	b.get(fmt.Sprintf("/admin/audit?before=%d", older)).wantStatus(http.StatusOK).
		wantBody("invite 2<", "invite 0<", "Newest entries").wantNoBody("Older entries", "something.new")
	b.get("/admin/audit?before=x").wantStatus(http.StatusBadRequest)
}
