package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"maru/store"
)

func TestSignupModes(t *testing.T) {
	reg := func(e *testEnv, email, invite string) *response {
		body := map[string]string{"email": email, "password": testPassword}
		if invite != "" {
			body["invite"] = invite
		}
		return e.do("POST", "/user/registration/", "", body)
	}
	t.Run("open", func(t *testing.T) {
		e := newTestEnv(t)
		reg(e, "a@example.com", "").wantStatus(http.StatusCreated)
	})
	t.Run("closed", func(t *testing.T) {
		e := newTestEnvWith(t, Config{Signup: SignupClosed})
		reg(e, "a@example.com", "").wantStatus(http.StatusForbidden).wantBody(`{"detail":"Registration is closed."}`)
		e.browser().get("/register").wantBody("closed")
	})
	t.Run("invite", func(t *testing.T) {
		e := newTestEnvWith(t, Config{Signup: SignupInvite})
		admin, err := e.store.CreateUser(context.Background(), storeUser("admin@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		inv, err := e.store.CreateInvite(context.Background(), admin.ID, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		reg(e, "a@example.com", "").wantStatus(http.StatusBadRequest).wantBody(`"invite":["This field is required."]`)
		reg(e, "a@example.com", "NOTACODE00").wantStatus(http.StatusBadRequest).wantBody(`"invite":[`)
		reg(e, "a@example.com", strings.ToLower(inv.Code)).wantStatus(http.StatusCreated)
		reg(e, "b@example.com", inv.Code).wantStatus(http.StatusBadRequest).wantBody(`"invite":[`) // used up
	})
}

func TestPasswordChangeEndsOtherLogins(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("pw@example.com")
	other := e.register("other@example.com")
	// A second device: another token pair, and a browser session.
	var second struct{ Access, Refresh string }
	e.do("POST", "/user/login/", "", map[string]string{"email": u.Email, "password": testPassword}).
		wantStatus(http.StatusOK).decode(&second)
	b := e.browser()
	b.login(u.Email)
	b.get("/").wantBody(`action="/logout"`)

	e.do("POST", "/user/password/change/", u.Access, map[string]string{"old_password": "wrong", "new_password": "a new password"}).
		wantStatus(http.StatusBadRequest).wantBody(`"old_password":[`)
	e.do("POST", "/user/password/change/", u.Access, map[string]string{"old_password": testPassword, "new_password": "123"}).
		wantStatus(http.StatusBadRequest).wantBody(`"new_password":[`)
	e.do("POST", "/user/password/change/", u.Access, map[string]string{"old_password": testPassword}).
		wantStatus(http.StatusBadRequest).wantBody(`"new_password":["This field is required."]`)
	// Refusals changed nothing.
	e.do("GET", "/mysite/user/v1/profile/", second.Access, nil).wantStatus(http.StatusOK)

	var changed struct{ Message, Access string }
	e.do("POST", "/user/password/change/", u.Access, map[string]string{
		"old_password": testPassword, "new_password": "a new password", "refresh": u.Refresh,
	}).wantStatus(http.StatusOK).decode(&changed)

	// Every access token from before stops at once; the new one works.
	e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantStatus(http.StatusUnauthorized)
	e.do("GET", "/mysite/user/v1/profile/", second.Access, nil).wantStatus(http.StatusUnauthorized)
	e.do("GET", "/mysite/user/v1/profile/", changed.Access, nil).wantStatus(http.StatusOK)
	// The caller's refresh token stays; the other device's is revoked.
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": u.Refresh}).wantStatus(http.StatusOK)
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": second.Refresh}).wantStatus(http.StatusUnauthorized)
	// The browser session ended.
	b.get("/").wantNoBody(`action="/logout"`)
	// Nobody else was touched.
	e.do("GET", "/mysite/user/v1/profile/", other.Access, nil).wantStatus(http.StatusOK)
	e.do("POST", "/user/login/", "", map[string]string{"email": u.Email, "password": "a new password"}).wantStatus(http.StatusOK)
}

func TestDeleteAccountAPI(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("leaving@example.com")
	friend := e.register("friend@example.com")
	e.do("POST", "/user/add-friend/", friend.Access, map[string]string{"email": u.Email}).wantStatus(http.StatusCreated)
	post := e.writePost(u, map[string]any{"title": "staying", "content": "after I go"})

	e.do("POST", "/user/delete/", u.Access, map[string]string{"password": "wrong"}).wantStatus(http.StatusBadRequest).wantBody(`"password":[`)
	e.do("POST", "/user/delete/", u.Access, map[string]string{}).wantStatus(http.StatusBadRequest).wantBody(`"password":["This field is required."]`)
	e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantStatus(http.StatusOK)

	e.do("POST", "/user/delete/", u.Access, map[string]string{"password": testPassword}).wantStatus(http.StatusNoContent)
	e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantStatus(http.StatusUnauthorized)
	e.do("POST", "/user/token/refresh/", "", map[string]string{"refresh": u.Refresh}).wantStatus(http.StatusUnauthorized)
	e.do("POST", "/user/login/", "", map[string]string{"email": u.Email, "password": testPassword}).wantStatus(http.StatusBadRequest)
	e.do("GET", fmt.Sprintf("/api/post/detail/%d/", post.ID), "", nil).wantStatus(http.StatusOK).
		wantBody(`"nickname":"deleted user"`).wantNoBody("leaving@example.com")
	e.do("GET", "/user/friends/", friend.Access, nil).wantStatus(http.StatusOK).wantBody("[]")
	// The email is free again, for an account that starts empty.
	again := e.register("leaving@example.com")
	if again.ID == u.ID {
		t.Fatal("the new account reuses the old id")
	}
	e.do("GET", "/user/friends/", again.Access, nil).wantBody("[]")
}

func TestExport(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("me@example.com")
	other := e.register("other@example.com")
	e.do("POST", "/user/add-friend/", u.Access, map[string]string{"email": other.Email}).wantStatus(http.StatusCreated)
	e.writePost(u, map[string]any{"title": "mine", "content": "my words", "tags": []string{"t"}})
	e.writePost(other, map[string]any{"title": "theirs", "content": "not in my export"})
	room := e.createRoom(u, "Lobby")
	e.do("POST", "/api/chat/message/", u.Access, map[string]any{"type": "chat.message", "message": "hello from me", "room": room.ID}).wantStatus(http.StatusCreated)
	e.do("POST", "/api/chat/message/", other.Access, map[string]any{"type": "chat.message", "message": "hello from them", "room": room.ID}).wantStatus(http.StatusCreated)

	res := e.do("GET", "/mysite/user/v1/export/", u.Access, nil).wantStatus(http.StatusOK)
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	var exp struct {
		Profile      struct{ Email string }
		Friends      []struct{ Email string }
		Posts        []struct{ Title string }
		ChatMessages []struct{ Message string } `json:"chat_messages"`
	}
	if err := json.Unmarshal(res.Body, &exp); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, res.Body)
	}
	if exp.Profile.Email != u.Email || len(exp.Friends) != 1 || len(exp.Posts) != 1 || exp.Posts[0].Title != "mine" ||
		len(exp.ChatMessages) != 1 || exp.ChatMessages[0].Message != "hello from me" {
		t.Fatalf("export %+v", exp)
	}
	e.do("GET", "/mysite/user/v1/export/", "", nil).wantStatus(http.StatusUnauthorized)
}

func TestAdminInvitesAndResetLinks(t *testing.T) {
	e := newTestEnvWith(t, Config{BaseURL: "https://club.example.org"})
	admin, user := e.register("admin@example.com"), e.register("user@example.com")
	e.makeAdmin(admin)
	e.do("POST", "/api/admin/invites/", user.Access, map[string]int{}).wantStatus(http.StatusForbidden)
	e.do("POST", fmt.Sprintf("/api/admin/users/%d/reset-link/", admin.ID), user.Access, nil).wantStatus(http.StatusForbidden)

	var inv inviteJSON
	e.do("POST", "/api/admin/invites/", admin.Access, nil).wantStatus(http.StatusCreated).decode(&inv)
	if inv.MaxUses != 1 || inv.ExpiresAt == nil || !inv.Usable || inv.URL != "https://club.example.org/register?invite="+inv.Code {
		t.Fatalf("default invite %+v", inv)
	}
	e.do("POST", "/api/admin/invites/", admin.Access, map[string]int{"expires_in_days": 400}).wantStatus(http.StatusBadRequest).wantBody(`"expires_in_days"`)

	var link resetLinkJSON
	e.do("POST", fmt.Sprintf("/api/admin/users/%d/reset-link/", user.ID), admin.Access, nil).wantStatus(http.StatusCreated).decode(&link)
	if !strings.HasPrefix(link.URL, "https://club.example.org/reset/") {
		t.Fatalf("reset link %q", link.URL)
	}
	log, _ := e.store.AuditLog(context.Background(), 0, 10)
	if len(log) != 2 || log[0].Action != "user.reset_link" || log[1].Action != "invite.create" || log[0].Actor != admin.Email {
		t.Fatalf("audit log %+v", log)
	}
}

// storeUser is a new account's fields with the test password.
func storeUser(email string) store.NewUser {
	return store.NewUser{Email: email, Password: testPassword}
}
