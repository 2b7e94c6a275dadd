package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"maru/store"
)

// The moderation routes answer anonymous callers 401 and users who are no
// admin 403, and change nothing for either.
func TestModerationForAdminsOnly(t *testing.T) {
	e := newTestEnv(t)
	admin, user := e.register("admin@example.com"), e.register("user@example.com")
	e.makeAdmin(admin)
	post := e.writePost(admin, map[string]any{"title": "Stays", "content": "x"})
	room := e.createRoom(admin, "Lobby")
	msg := e.sendMessage(admin, room.ID, "stays too")
	routes := []struct{ method, path string }{
		{"GET", "/api/admin/users/"},
		{"POST", fmt.Sprintf("/api/admin/users/%d/disable/", admin.ID)},
		{"POST", fmt.Sprintf("/api/admin/users/%d/enable/", admin.ID)},
		{"DELETE", fmt.Sprintf("/api/admin/posts/%d/", post.ID)},
		{"DELETE", fmt.Sprintf("/api/admin/rooms/%d/", room.ID)},
		{"DELETE", fmt.Sprintf("/api/admin/messages/%d/", msg.ID)},
		{"GET", "/api/admin/audit-log/"},
	}
	for _, rt := range routes {
		e.do(rt.method, rt.path, "", nil).wantStatus(http.StatusUnauthorized).wantBody(msgNotAuthenticated)
		e.do(rt.method, rt.path, user.Access, nil).wantStatus(http.StatusForbidden).wantBody(msgForbidden)
	}
	e.do("GET", fmt.Sprintf("/api/post/detail/%d/", post.ID), "", nil).wantStatus(http.StatusOK)
	e.do("GET", fmt.Sprintf("/api/chat/room/%d/messages/", room.ID), admin.Access, nil).wantStatus(http.StatusOK).wantBody("stays too")
	e.do("GET", "/mysite/user/v1/profile/", admin.Access, nil).wantStatus(http.StatusOK)
	if log, _ := e.store.AuditLog(context.Background(), 0, 10); len(log) != 0 {
		t.Fatalf("refused requests left audit entries: %+v", log)
	}
}

// sendMessage posts a chat message through the API.
func (e *testEnv) sendMessage(u *testUser, roomID int64, text string) messageJSON {
	e.t.Helper()
	var m messageJSON
	e.do("POST", "/api/chat/message/", u.Access, map[string]any{"message": text, "room": roomID}).
		wantStatus(http.StatusCreated).decode(&m)
	return m
}

// wantAudit checks that the newest entries of the audit log are, newest
// first, the actions given, each by actor.
func (e *testEnv) wantAudit(actor string, actions ...string) []store.AuditEntry {
	e.t.Helper()
	log, err := e.store.AuditLog(context.Background(), 0, len(actions))
	if err != nil {
		e.t.Fatal(err)
	}
	var got []string
	for _, a := range log {
		got = append(got, a.Action)
		if a.Actor != actor {
			e.t.Fatalf("audit entry %+v: actor %q, want %q", a, a.Actor, actor)
		}
	}
	if strings.Join(got, " ") != strings.Join(actions, " ") {
		e.t.Fatalf("audit log %v, want %v", got, actions)
	}
	return log
}

// Disabling a user ends their tokens, sessions and sockets at once and
// refuses their login with a message that says so; their content stays.
// Enabling them again lets them log in, but brings back no old login.
func TestDisableUser(t *testing.T) {
	e := newTestEnv(t)
	admin, spammer, other := e.register("admin@example.com"), e.register("spam@example.com"), e.register("other@example.com")
	e.makeAdmin(admin)
	post := e.writePost(spammer, map[string]any{"title": "Buy now", "content": "cheap"})
	room := e.createRoom(other, "Lobby")
	sock := e.dialChat(spammer, room.ID)
	sock.nextOf("chat.presence")
	b := e.browser()
	b.login(spammer.Email)
	b.get("/profile").wantStatus(http.StatusOK)
	path := fmt.Sprintf("/api/admin/users/%d/", spammer.ID)

	var got adminUserJSON
	e.do("POST", path+"disable/", admin.Access, nil).wantStatus(http.StatusOK).decode(&got)
	if !got.IsDisabled || got.ID != spammer.ID || got.Email != spammer.Email {
		t.Fatalf("disabled user %+v", got)
	}
	if code := sock.closed(); code != statusCredentialsGone {
		t.Fatalf("their socket closed with %d, want %d", code, statusCredentialsGone)
	}
	e.do("GET", "/mysite/user/v1/profile/", spammer.Access, nil).wantStatus(http.StatusUnauthorized).wantBody(`"user_inactive"`)
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": spammer.Refresh}).wantStatus(http.StatusUnauthorized)
	if loc := b.get("/profile").wantStatus(http.StatusSeeOther).Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("a disabled user's page goes to %q, want the login page", loc)
	}
	login := map[string]string{"email": spammer.Email, "password": testPassword}
	e.do("POST", "/user/login/", "", login).wantStatus(http.StatusBadRequest).
		wantBody(`{"non_field_errors":["This account has been disabled."]}`)
	if status, _ := e.dialRefused(room.ID, http.Header{"Authorization": {"Bearer " + spammer.Access}}); status != http.StatusUnauthorized {
		t.Fatalf("a disabled user's socket: %d, want 401", status)
	}
	// Their content stays; nobody else is touched.
	e.do("GET", fmt.Sprintf("/api/post/detail/%d/", post.ID), "", nil).wantStatus(http.StatusOK).wantBody("Buy now")
	e.do("GET", "/mysite/user/v1/profile/", other.Access, nil).wantStatus(http.StatusOK)
	// Disabling twice changes nothing and records nothing more.
	e.do("POST", path+"disable/", admin.Access, nil).wantStatus(http.StatusOK).wantBody(`"is_disabled":true`)
	e.wantAudit(admin.Email, "user.disable")

	e.do("POST", path+"enable/", admin.Access, nil).wantStatus(http.StatusOK).wantBody(`"is_disabled":false`)
	e.do("GET", "/mysite/user/v1/profile/", spammer.Access, nil).wantStatus(http.StatusUnauthorized)
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": spammer.Refresh}).wantStatus(http.StatusUnauthorized)
	b.get("/profile").wantStatus(http.StatusSeeOther)
	e.do("POST", "/user/login/", "", login).wantStatus(http.StatusOK)
	e.wantAudit(admin.Email, "user.enable", "user.disable")
}

// Bad moderation requests get a clear 4xx and change nothing.
func TestDisableUserRefusals(t *testing.T) {
	e := newTestEnv(t)
	admin, second := e.register("admin@example.com"), e.register("second@example.com")
	e.makeAdmin(admin)
	e.do("POST", fmt.Sprintf("/api/admin/users/%d/disable/", admin.ID), admin.Access, nil).
		wantStatus(http.StatusBadRequest).wantBody(`{"non_field_errors":["` + msgModerateSelf + `"]}`)
	e.do("POST", "/api/admin/users/999999/disable/", admin.Access, nil).wantStatus(http.StatusNotFound)
	e.do("POST", "/api/admin/users/x/disable/", admin.Access, nil).wantStatus(http.StatusNotFound)
	e.do("POST", "/api/admin/users/999999/enable/", admin.Access, nil).wantStatus(http.StatusNotFound)
	e.do("GET", "/mysite/user/v1/profile/", admin.Access, nil).wantStatus(http.StatusOK)

	// A closed account is gone for moderation too.
	e.do("POST", "/user/delete/", second.Access, map[string]string{"password": testPassword}).wantStatus(http.StatusNoContent)
	e.do("POST", fmt.Sprintf("/api/admin/users/%d/disable/", second.ID), admin.Access, nil).wantStatus(http.StatusNotFound)

	// Another admin may be disabled, but never the last one who can act:
	// two admins disabling each other at once cannot both win, which the
	// store decides (here as if the second request came in meanwhile).
	third := e.register("third@example.com")
	e.makeAdmin(third)
	e.do("POST", fmt.Sprintf("/api/admin/users/%d/disable/", third.ID), admin.Access, nil).wantStatus(http.StatusOK)
	thirdUser, _ := e.store.UserByID(context.Background(), third.ID)
	if _, err := e.store.SetDisabled(context.Background(), thirdUser, admin.ID, true); err != store.ErrLastAdmin {
		t.Fatalf("disabling the last admin: %v, want ErrLastAdmin", err)
	}
	e.do("GET", "/mysite/user/v1/profile/", admin.Access, nil).wantStatus(http.StatusOK)
	if log, _ := e.store.AuditLog(context.Background(), 0, 10); len(log) != 1 {
		t.Fatalf("audit log %+v, want the one disabling", log)
	}
}

// An admin finds accounts by email, private ones too; with no search, the
// admins.
func TestAdminUserList(t *testing.T) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	hidden := e.register("hidden@example.org")
	e.editProfile(hidden, map[string]any{"is_private": true})
	var got []adminUserJSON
	e.do("GET", "/api/admin/users/", admin.Access, nil).wantStatus(http.StatusOK).decode(&got)
	if len(got) != 1 || got[0].Email != admin.Email || !got[0].IsAdmin {
		t.Fatalf("admins %+v", got)
	}
	e.do("GET", "/api/admin/users/?search=HIDDEN", admin.Access, nil).wantStatus(http.StatusOK).decode(&got)
	if len(got) != 1 || got[0].ID != hidden.ID || got[0].IsAdmin || got[0].IsDisabled {
		t.Fatalf("search %+v", got)
	}
	e.do("GET", "/api/admin/users/?search=a%00", admin.Access, nil).wantStatus(http.StatusBadRequest).wantBody(`"search":[`)
}

// An admin deletes anyone's post, through the admin route or the board's
// own; either is recorded, while authors deleting their own posts are not.
func TestAdminDeletesPosts(t *testing.T) {
	e := newTestEnv(t)
	admin, user := e.register("admin@example.com"), e.register("user@example.com")
	e.makeAdmin(admin)
	p1 := e.writePost(user, map[string]any{"title": "Spam one", "content": "x"})
	p2 := e.writePost(user, map[string]any{"title": "Spam two", "content": "x"})
	own := e.writePost(admin, map[string]any{"title": "Mine", "content": "x"})

	e.do("DELETE", fmt.Sprintf("/api/admin/posts/%d/", p1.ID), admin.Access, nil).wantStatus(http.StatusNoContent)
	e.do("DELETE", fmt.Sprintf("/api/admin/posts/%d/", p1.ID), admin.Access, nil).wantStatus(http.StatusNotFound)
	e.do("DELETE", "/api/admin/posts/999999/", admin.Access, nil).wantStatus(http.StatusNotFound)
	e.do("GET", fmt.Sprintf("/api/post/detail/%d/", p1.ID), "", nil).wantStatus(http.StatusNotFound)
	e.do("DELETE", fmt.Sprintf("/api/post/detail/%d/", p2.ID), admin.Access, nil).wantStatus(http.StatusOK)
	e.do("DELETE", fmt.Sprintf("/api/post/detail/%d/", own.ID), admin.Access, nil).wantStatus(http.StatusOK)
	log := e.wantAudit(admin.Email, "post.delete", "post.delete")
	if !strings.Contains(log[1].Target, "Spam one") || log[1].Detail != "by "+user.Email {
		t.Fatalf("audit entry %+v", log[1])
	}
}

// Deleting a room takes its messages with it, tells its open sockets and
// closes them; deleting it again is 404.
func TestAdminDeletesRoom(t *testing.T) {
	e := newTestEnv(t)
	admin, user := e.register("admin@example.com"), e.register("user@example.com")
	e.makeAdmin(admin)
	room, other := e.createRoom(user, "Spam room"), e.createRoom(user, "Stays")
	e.sendMessage(user, room.ID, "spam")
	kept := e.sendMessage(user, other.ID, "kept")
	sock, otherSock := e.dialChat(user, room.ID), e.dialChat(user, other.ID)
	sock.nextOf("chat.presence")
	otherSock.nextOf("chat.presence")

	path := fmt.Sprintf("/api/admin/rooms/%d/", room.ID)
	e.do("DELETE", path, admin.Access, nil).wantStatus(http.StatusNoContent)
	if f := sock.nextOf(frameRoomDeleted); f["room"] != float64(room.ID) {
		t.Fatalf("room frame %v", f)
	}
	if code := sock.closed(); code != statusRoomGone {
		t.Fatalf("room socket closed with %d, want %d", code, statusRoomGone)
	}
	e.do("GET", fmt.Sprintf("/api/chat/room/%d/", room.ID), user.Access, nil).wantStatus(http.StatusNotFound)
	e.do("GET", fmt.Sprintf("/api/chat/room/%d/messages/", room.ID), user.Access, nil).wantStatus(http.StatusNotFound)
	e.do("DELETE", path, admin.Access, nil).wantStatus(http.StatusNotFound).wantBody(`{"detail":"Not found."}`)
	e.do("DELETE", "/api/admin/rooms/999999/", admin.Access, nil).wantStatus(http.StatusNotFound)
	if n, _ := e.store.RoomMessageCount(context.Background(), other.ID); n != 1 {
		t.Fatalf("the other room has %d messages, want 1", n)
	}
	// The other room lives on.
	otherSock.say("still here")
	if f := otherSock.nextOf("chat.message"); f["message"] != "still here" {
		t.Fatalf("other room: %v", f)
	}
	if _, err := e.store.MessageByID(context.Background(), kept.ID); err != nil {
		t.Fatal(err)
	}
	log := e.wantAudit(admin.Email, "room.delete")
	if !strings.Contains(log[0].Target, "Spam room") || log[0].Detail != "1 message(s)" {
		t.Fatalf("audit entry %+v", log[0])
	}
}

// Deleting a message takes it out of the history and out of every open
// page of its room, live.
func TestAdminDeletesMessage(t *testing.T) {
	e := newTestEnv(t)
	admin, user := e.register("admin@example.com"), e.register("user@example.com")
	e.makeAdmin(admin)
	room := e.createRoom(user, "Lobby")
	bad := e.sendMessage(user, room.ID, "something nasty")
	e.sendMessage(user, room.ID, "something fine")
	watchers := []*testSocket{e.dialChat(user, room.ID), e.dialChat(admin, room.ID)}
	for _, w := range watchers {
		w.nextOf("chat.presence")
	}
	path := fmt.Sprintf("/api/admin/messages/%d/", bad.ID)
	e.do("DELETE", path, admin.Access, nil).wantStatus(http.StatusNoContent)
	for _, w := range watchers {
		f := w.nextOf(frameMessageDeleted)
		if f["id"] != float64(bad.ID) || f["room"] != float64(room.ID) {
			t.Fatalf("delete frame %v", f)
		}
	}
	e.do("GET", fmt.Sprintf("/api/chat/room/%d/messages/", room.ID), user.Access, nil).wantStatus(http.StatusOK).
		wantBody("something fine").wantNoBody("something nasty")
	e.do("DELETE", path, admin.Access, nil).wantStatus(http.StatusNotFound)
	e.do("DELETE", "/api/admin/messages/0/", admin.Access, nil).wantStatus(http.StatusNotFound)
	log := e.wantAudit(admin.Email, "message.delete")
	if log[0].Detail != "by "+user.Email || strings.Contains(log[0].Target+log[0].Detail, "nasty") {
		t.Fatalf("audit entry %+v: it names the sender, never the text", log[0])
	}
}

// The audit log reads newest first, a page at a time.
func TestAuditLogAPI(t *testing.T) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	for range 3 {
		e.do("POST", "/api/admin/invites/", admin.Access, nil).wantStatus(http.StatusCreated)
	}
	if err := e.store.Audit(context.Background(), nil, "user.set_password", "user 1", ""); err != nil {
		t.Fatal(err)
	}
	var page []auditJSON
	e.do("GET", "/api/admin/audit-log/?limit=2", admin.Access, nil).wantStatus(http.StatusOK).decode(&page)
	if len(page) != 2 || page[0].Actor != "operator" || page[0].ActorID != nil || page[1].Action != "invite.create" ||
		page[1].ActorID == nil || *page[1].ActorID != admin.ID {
		t.Fatalf("first page %+v", page)
	}
	var rest []auditJSON
	e.do("GET", fmt.Sprintf("/api/admin/audit-log/?before=%d", page[1].ID), admin.Access, nil).wantStatus(http.StatusOK).decode(&rest)
	if len(rest) != 2 || rest[0].ID >= page[1].ID {
		t.Fatalf("second page %+v", rest)
	}
	e.do("GET", "/api/admin/audit-log/?limit=0", admin.Access, nil).wantStatus(http.StatusBadRequest).wantBody(`"limit":[`)
	e.do("GET", "/api/admin/audit-log/?before=x", admin.Access, nil).wantStatus(http.StatusBadRequest).wantBody(`"before":[`)
}
