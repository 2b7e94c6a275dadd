package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"maru/store"
)

// The authorization table: every route maru registers, with what each
// kind of caller gets from it, checked over real HTTP. A route that
// routes.go registers without a row here fails the test, so that nobody
// adds a route without deciding who may use it.
//
// The six callers, in the order of each row's outcomes:
//
//	anonymous  no credentials at all
//	user       logged in, with no tie to the resource
//	author     logged in, owner of the resource: the post's author, the
//	           private profile's owner (who has added friend), the room's creator
//	other      logged in, has added the author as a friend (a one-sided
//	           tie, which must grant nothing)
//	friend     logged in, added by the author
//	admin      logged in, an admin with no tie to the resource
//
// An outcome is a status, and for a redirect the start of its Location:
// "303/login" is a 303 to the login page. A JSON route is called with the
// caller's Bearer token, a page with its browser session (a cookie from
// the login page) and, for a form, as a browser posts it.

// Callers, in the order of a row's outcomes.
const (
	roleAnonymous = iota
	roleUser
	roleAuthor
	roleOther
	roleFriend
	roleAdmin
	roleCount
)

var roleNames = [roleCount]string{"anonymous", "user", "author", "other", "friend", "admin"}

// authzRow is one route's line of the table.
type authzRow struct {
	route string // method and pattern, exactly as routes.go registers it
	want  string // the six outcomes, anonymous first
	// id is what the pattern's wildcard stands for (or what follows a
	// pattern ending in "/"): "post", "room", "message", "category",
	// "invite", "author", "victim" (a user to disable), "resetuser",
	// "reset", "picture" or "asset".
	id    string
	query string
	// body is what the caller sends: JSON for an API route, url.Values for
	// a page's form; nil sends nothing.
	body func(w *authzWorld, a *actor) any
	// self marks a route that changes or ends the caller's own login or
	// account (password, deletion, logging in or out, registering in a
	// browser): each caller is then a throwaway one of its kind.
	self bool
	// spends is the resource a success uses up ("post", "room",
	// "message", "category", "invite", "reset", "victim"): a new one is
	// made after each call.
	spends string
}

func jsonBody(v map[string]any) func(*authzWorld, *actor) any {
	return func(*authzWorld, *actor) any { return v }
}

func formBody(kv ...string) func(*authzWorld, *actor) any {
	return func(*authzWorld, *actor) any {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
}

// newAccount is the body of a route that registers an account.
func newAccount(w *authzWorld, form bool) any {
	email := fmt.Sprintf("new%d@example.com", w.next())
	if form {
		return url.Values{"email": {email}, "password": {testPassword}, "password2": {testPassword}}
	}
	return map[string]any{"email": email, "password": testPassword}
}

var authzTable = []authzRow{
	//                                                                anon       user       author     other      friend     admin
	// Accounts and profiles.
	{route: "POST /user/registration/", want: /*                  */ "201        201        201        201        201        201",
		body: func(w *authzWorld, a *actor) any { return newAccount(w, false) }},
	{route: "POST /user/login/", want: /*                         */ "200        200        200        200        200        200",
		body: func(w *authzWorld, a *actor) any {
			return map[string]any{"email": a.loginEmail(w), "password": testPassword}
		}},
	{route: "POST /user/token/refresh/", want: /*                 */ "200        200        200        200        200        200",
		body: func(w *authzWorld, a *actor) any { return map[string]any{"refresh": w.refreshToken(a)} }},
	{route: "POST /user/logout/", want: /*                        */ "401        200        200        200        200        200",
		body: jsonBody(map[string]any{})},
	{route: "GET /mysite/user/v1/profile/", want: /*              */ "401        200        200        200        200        200"},
	{route: "PUT /mysite/user/v1/profile/edit/", want: /*         */ "401        200        200        200        200        200",
		body: jsonBody(map[string]any{"status": "here"})},
	{route: "PATCH /mysite/user/v1/profile/edit/", want: /*       */ "401        200        200        200        200        200",
		body: jsonBody(map[string]any{"status": "here"})},
	{route: "POST /user/password/change/", want: /*               */ "401        200        200        200        200        200", self: true,
		body: jsonBody(map[string]any{"old_password": testPassword, "new_password": "another long one"})},
	{route: "GET /mysite/user/v1/export/", want: /*               */ "401        200        200        200        200        200"},
	{route: "POST /user/delete/", want: /*                        */ "401        204        204        204        204        204", self: true,
		body: jsonBody(map[string]any{"password": testPassword})},

	// Admin API.
	{route: "GET /api/admin/invites/", want: /*                   */ "401        403        403        403        403        200"},
	{route: "POST /api/admin/invites/", want: /*                  */ "401        403        403        403        403        201",
		body: jsonBody(map[string]any{"max_uses": 2})},
	{route: "DELETE /api/admin/invites/{id}/", want: /*           */ "401        403        403        403        403        204", id: "invite", spends: "invite"},
	{route: "POST /api/admin/users/{id}/reset-link/", want: /*    */ "401        403        403        403        403        201", id: "resetuser", spends: "reset"},
	{route: "GET /api/admin/users/", want: /*                     */ "401        403        403        403        403        200"},
	{route: "POST /api/admin/users/{id}/disable/", want: /*       */ "401        403        403        403        403        200", id: "victim", spends: "victim"},
	{route: "POST /api/admin/users/{id}/enable/", want: /*        */ "401        403        403        403        403        200", id: "victim"},
	{route: "DELETE /api/admin/posts/{id}/", want: /*             */ "401        403        403        403        403        204", id: "post", spends: "post"},
	{route: "DELETE /api/admin/rooms/{id}/", want: /*             */ "401        403        403        403        403        204", id: "room", spends: "room"},
	{route: "DELETE /api/admin/messages/{id}/", want: /*          */ "401        403        403        403        403        204", id: "message", spends: "message"},
	{route: "GET /api/admin/audit-log/", want: /*                 */ "401        403        403        403        403        200"},

	// Friends: the author's profile is private, and only friend is on its list.
	{route: "POST /user/add-friend/", want: /*                    */ "401        201        201        201        201        201",
		body: func(w *authzWorld, a *actor) any { return map[string]any{"email": w.stranger().Email} }},
	{route: "GET /user/friends/", want: /*                        */ "401        200        200        200        200        200"},
	{route: "GET /user/friend-profile/{id}/", want: /*            */ "401        403        200        403        200        403", id: "author"},
	{route: "GET /user/search-friends/", want: /*                 */ "401        200        200        200        200        200", query: "keyword=example"},
	{route: "POST /user/delete-friend/", want: /*                 */ "401        200        200        200        200        200",
		body: func(w *authzWorld, a *actor) any { return map[string]any{"email": w.listedStranger(a)} }},

	// Chat.
	{route: "POST /api/chat/room/", want: /*                      */ "401        201        201        201        201        201",
		body: func(w *authzWorld, a *actor) any { return map[string]any{"name": fmt.Sprint("room ", w.next())} }},
	{route: "GET /api/chat/room/", want: /*                       */ "401        200        200        200        200        200"},
	{route: "GET /api/chat/room/{id}/", want: /*                  */ "401        200        200        200        200        200", id: "room"},
	{route: "POST /api/chat/room/{id}/", want: /*                 */ "401        200        200        200        200        200", id: "room"},
	{route: "GET /api/chat/room/{id}/messages/", want: /*         */ "401        200        200        200        200        200", id: "room"},
	{route: "POST /api/chat/message/", want: /*                   */ "401        201        201        201        201        201",
		body: func(w *authzWorld, a *actor) any { return map[string]any{"message": "hello", "room": w.room} }},
	{route: "GET /ws/chat/{room_id}/chat/", want: /*              */ "401        101        101        101        101        101", id: "room"},

	// The board: reading is open, changing a post is its author's or an admin's.
	{route: "GET /api/post/", want: /*                            */ "200        200        200        200        200        200"},
	{route: "POST /api/post/", want: /*                           */ "200        200        200        200        200        200",
		body: jsonBody(map[string]any{"search": "title"})},
	{route: "POST /api/post/write", want: /*                      */ "401        201        201        201        201        201",
		body: jsonBody(map[string]any{"title": "t", "content": "c"})},
	{route: "GET /api/post/detail/{id}/", want: /*                */ "200        200        200        200        200        200", id: "post"},
	{route: "DELETE /api/post/detail/{id}/", want: /*             */ "401        403        200        403        403        200", id: "post", spends: "post"},
	{route: "POST /api/post/detail/{id}/delete/", want: /*        */ "401        403        200        403        403        200", id: "post", spends: "post"},
	{route: "GET /api/post/detail/{id}/edit/", want: /*           */ "401        403        200        403        403        200", id: "post"},
	{route: "POST /api/post/detail/{id}/edit/", want: /*          */ "401        403        200        403        403        200", id: "post",
		body: jsonBody(map[string]any{"title": "edited"})},
	{route: "PUT /api/post/detail/{id}/edit/", want: /*           */ "401        403        200        403        403        200", id: "post",
		body: jsonBody(map[string]any{"title": "edited"})},
	{route: "PATCH /api/post/detail/{id}/edit/", want: /*         */ "401        403        200        403        403        200", id: "post",
		body: jsonBody(map[string]any{"title": "edited"})},
	{route: "GET /api/post/categories", want: /*                  */ "200        200        200        200        200        200"},
	{route: "POST /api/post/categories", want: /*                 */ "200        200        200        200        200        200"},
	{route: "POST /api/post/categories/create", want: /*          */ "401        403        403        403        403        201",
		body: func(w *authzWorld, a *actor) any { return map[string]any{"name": fmt.Sprint("category ", w.next())} }},
	{route: "PUT /api/post/categories/{id}", want: /*             */ "401        403        403        403        403        200", id: "category",
		body: func(w *authzWorld, a *actor) any { return map[string]any{"name": fmt.Sprint("category ", w.next())} }},
	{route: "PATCH /api/post/categories/{id}", want: /*           */ "401        403        403        403        403        200", id: "category",
		body: func(w *authzWorld, a *actor) any { return map[string]any{"name": fmt.Sprint("category ", w.next())} }},
	{route: "DELETE /api/post/categories/{id}", want: /*          */ "401        403        403        403        403        204", id: "category", spends: "category"},

	// Open to all, before any guard.
	{route: "GET /healthz", want: /*                              */ "200        200        200        200        200        200"},
	{route: "GET /api/openapi.json", want: /*                     */ "200        200        200        200        200        200"},
	{route: "GET /api/docs", want: /*                             */ "200        200        200        200        200        200"},
	{route: "GET /static/", want: /*                              */ "200        200        200        200        200        200", id: "asset"},
	{route: "GET /media/pictures/{key}", want: /*                 */ "200        200        200        200        200        200", id: "picture"},

	// Pages. Those that need a login send the anonymous to it; admin pages
	// answer others 403.
	{route: "GET /{$}", want: /*                                  */ "200        200        200        200        200        200"},
	{route: "GET /posts/{id}", want: /*                           */ "200        200        200        200        200        200", id: "post"},
	{route: "GET /posts/new", want: /*                            */ "303/login  200        200        200        200        200"},
	{route: "POST /posts/new", want: /*                           */ "303/login  303/posts/ 303/posts/ 303/posts/ 303/posts/ 303/posts/",
		body: formBody("title", "t", "content", "c")},
	{route: "GET /posts/{id}/edit", want: /*                      */ "303/login  403        200        403        403        200", id: "post"},
	{route: "POST /posts/{id}/edit", want: /*                     */ "303/login  403        303/posts/ 403        403        303/posts/", id: "post",
		body: formBody("title", "edited", "content", "c")},
	{route: "GET /posts/{id}/delete", want: /*                    */ "303/login  403        200        403        403        200", id: "post"},
	{route: "POST /posts/{id}/delete", want: /*                   */ "303/login  403        303/       403        403        303/", id: "post", spends: "post",
		body: formBody()},
	{route: "GET /login", want: /*                                */ "200        303/       303/       303/       303/       303/"},
	{route: "POST /login", want: /*                               */ "303/       303/       303/       303/       303/       303/", self: true,
		body: func(w *authzWorld, a *actor) any {
			return url.Values{"email": {a.loginEmail(w)}, "password": {testPassword}}
		}},
	{route: "GET /register", want: /*                             */ "200        303/       303/       303/       303/       303/"},
	{route: "POST /register", want: /*                            */ "303/       303/       303/       303/       303/       303/", self: true,
		body: func(w *authzWorld, a *actor) any { return newAccount(w, true) }},
	{route: "POST /logout", want: /*                              */ "303/       303/       303/       303/       303/       303/", self: true,
		body: formBody()},
	{route: "POST /lang", want: /*                                */ "303/       303/       303/       303/       303/       303/",
		body: formBody("lang", "en")},
	{route: "GET /profile", want: /*                              */ "303/login  200        200        200        200        200"},
	{route: "GET /profile/edit", want: /*                         */ "303/login  200        200        200        200        200"},
	{route: "POST /profile/edit", want: /*                        */ "303/login  303/profile 303/profile 303/profile 303/profile 303/profile",
		body: func(w *authzWorld, a *actor) any {
			v := url.Values{"status": {"here"}}
			if a.role == roleAuthor {
				v.Set("is_private", "on") // the form's checkbox: the author stays private
			}
			return v
		}},
	{route: "GET /users/{id}", want: /*                           */ "303/login  403        303/profile 403       200        403", id: "author"},
	{route: "GET /friends", want: /*                              */ "303/login  200        200        200        200        200"},
	{route: "POST /friends/add", want: /*                         */ "303/login  303/friends 303/friends 303/friends 303/friends 303/friends",
		body: func(w *authzWorld, a *actor) any { return url.Values{"email": {w.stranger().Email}} }},
	{route: "POST /friends/remove", want: /*                      */ "303/login  303/friends 303/friends 303/friends 303/friends 303/friends",
		body: func(w *authzWorld, a *actor) any { return url.Values{"email": {w.listedStranger(a)}} }},
	{route: "GET /admin", want: /*                                */ "303/login  403        403        403        403        200"},
	{route: "GET /admin/categories", want: /*                     */ "303/login  403        403        403        403        200"},
	{route: "POST /admin/categories", want: /*                    */ "303/login  403        403        403        403        303/admin/categories",
		body: func(w *authzWorld, a *actor) any { return url.Values{"name": {fmt.Sprint("category ", w.next())}} }},
	{route: "POST /admin/categories/{id}", want: /*               */ "303/login  403        403        403        403        303/admin/categories", id: "category",
		body: func(w *authzWorld, a *actor) any { return url.Values{"name": {fmt.Sprint("category ", w.next())}} }},
	{route: "GET /admin/categories/{id}/delete", want: /*         */ "303/login  403        403        403        403        200", id: "category"},
	{route: "POST /admin/categories/{id}/delete", want: /*        */ "303/login  403        403        403        403        303/admin/categories", id: "category", spends: "category",
		body: formBody()},
	{route: "GET /admin/users", want: /*                          */ "303/login  403        403        403        403        200"},
	{route: "POST /admin/users/{id}/admin", want: /*              */ "303/login  403        403        403        403        303/admin/users", id: "author",
		body: formBody("admin", "false")},
	{route: "GET /admin/users/{id}/disable", want: /*             */ "303/login  403        403        403        403        200", id: "victim"},
	{route: "POST /admin/users/{id}/disable", want: /*            */ "303/login  403        403        403        403        303/admin/users", id: "victim", spends: "victim",
		body: formBody()},
	{route: "POST /admin/users/{id}/enable", want: /*             */ "303/login  403        403        403        403        303/admin/users", id: "victim",
		body: formBody()},
	{route: "POST /admin/users/{id}/reset-link", want: /*         */ "303/login  403        403        403        403        200", id: "resetuser", spends: "reset",
		body: formBody()},
	{route: "GET /admin/invites", want: /*                        */ "303/login  403        403        403        403        200"},
	{route: "POST /admin/invites", want: /*                       */ "303/login  403        403        403        403        303/admin/invites",
		body: formBody("max_uses", "2")},
	{route: "POST /admin/invites/{id}/revoke", want: /*           */ "303/login  403        403        403        403        303/admin/invites", id: "invite", spends: "invite",
		body: formBody()},
	{route: "GET /admin/rooms", want: /*                          */ "303/login  403        403        403        403        200"},
	{route: "GET /admin/rooms/{id}/delete", want: /*              */ "303/login  403        403        403        403        200", id: "room"},
	{route: "POST /admin/rooms/{id}/delete", want: /*             */ "303/login  403        403        403        403        303/admin/rooms", id: "room", spends: "room",
		body: formBody()},
	{route: "GET /admin/messages/{id}/delete", want: /*           */ "303/login  403        403        403        403        200", id: "message"},
	{route: "POST /admin/messages/{id}/delete", want: /*          */ "303/login  403        403        403        403        303/chat/", id: "message", spends: "message",
		body: formBody()},
	{route: "GET /admin/audit", want: /*                          */ "303/login  403        403        403        403        200"},
	{route: "GET /profile/password", want: /*                     */ "303/login  200        200        200        200        200"},
	{route: "POST /profile/password", want: /*                    */ "303/login  303/profile 303/profile 303/profile 303/profile 303/profile", self: true,
		body: formBody("old_password", testPassword, "new_password", "another long one", "new_password2", "another long one")},
	{route: "GET /profile/delete", want: /*                       */ "303/login  200        200        200        200        200"},
	{route: "POST /profile/delete", want: /*                      */ "303/login  303/       303/       303/       303/       303/", self: true,
		body: formBody("password", testPassword)},
	{route: "GET /reset/{token}", want: /*                        */ "200        200        200        200        200        200", id: "reset"},
	{route: "POST /reset/{token}", want: /*                       */ "303/login  303/login  303/login  303/login  303/login  303/login", id: "reset", spends: "reset",
		body: formBody("password", "another long one", "password2", "another long one")},
	{route: "GET /chat", want: /*                                 */ "303/login  200        200        200        200        200"},
	{route: "POST /chat", want: /*                                */ "303/login  303/chat/  303/chat/  303/chat/  303/chat/  303/chat/",
		body: func(w *authzWorld, a *actor) any { return url.Values{"name": {fmt.Sprint("room ", w.next())}} }},
	{route: "GET /chat/{id}", want: /*                            */ "303/login  200        200        200        200        200", id: "room"},
	{route: "POST /chat/{id}", want: /*                           */ "303/login  303/chat/  303/chat/  303/chat/  303/chat/  303/chat/", id: "room",
		body: formBody("message", "hello")},
}

// actor is one caller: its account (nil when anonymous), and a browser
// logged in as it through the login page.
type actor struct {
	role int
	u    *testUser
	b    *browser
}

// loginEmail is the address the caller logs in with: its own, or for the
// anonymous caller a user's.
func (a *actor) loginEmail(w *authzWorld) string {
	if a.u == nil {
		return w.actors[roleUser].u.Email
	}
	return a.u.Email
}

// authzWorld is the server and the accounts and resources the table's
// rows act on.
type authzWorld struct {
	t      *testing.T
	e      *testEnv
	actors [roleCount]*actor
	n      int

	post, room, message, category, invite int64
	resetUser                             *testUser
	reset                                 string    // a password reset token of resetUser
	picture                               string    // the path of the author's picture
	victim                                *testUser // an account for admins to disable
}

func (w *authzWorld) next() int { w.n++; return w.n }

// newActor registers and logs in an account for role (nothing for the
// anonymous caller), in the API and in a browser.
func (w *authzWorld) newActor(role int) *actor {
	w.t.Helper()
	a := &actor{role: role, b: w.e.browser()}
	if role == roleAnonymous {
		return a
	}
	a.u = w.e.register(fmt.Sprintf("%s%d@example.com", roleNames[role], w.next()))
	if role == roleAdmin {
		w.e.makeAdmin(a.u)
	}
	a.b.login(a.u.Email)
	return a
}

// stranger is a new account on nobody's list.
func (w *authzWorld) stranger() *testUser {
	w.t.Helper()
	return w.e.register(fmt.Sprintf("stranger%d@example.com", w.next()))
}

// listedStranger is a new account that a has added (when a is logged in).
func (w *authzWorld) listedStranger(a *actor) string {
	w.t.Helper()
	s := w.stranger()
	if a.u != nil {
		w.e.addFriend(a.u, s)
	}
	return s.Email
}

// refreshToken is a new refresh token of the caller (a user's for the
// anonymous caller): each is spent by its first use.
func (w *authzWorld) refreshToken(a *actor) string {
	w.t.Helper()
	res := w.e.do("POST", "/user/login/", "", map[string]string{"email": a.loginEmail(w), "password": testPassword})
	var body struct{ Refresh string }
	res.wantStatus(http.StatusOK).decode(&body)
	return body.Refresh
}

// renew replaces a spent resource with a new one.
func (w *authzWorld) renew(what string) {
	w.t.Helper()
	ctx := context.Background()
	st := w.e.store
	author, admin := w.actors[roleAuthor].u, w.actors[roleAdmin].u
	var err error
	switch what {
	case "post":
		w.post = w.e.writePost(author, map[string]any{"title": "title", "content": "content"}).ID
	case "room":
		w.room = w.e.createRoom(author, fmt.Sprint("room ", w.next())).ID
		w.renew("message")
	case "message":
		m, merr := st.AddMessage(ctx, store.NewMessage{RoomID: w.room, UserID: author.ID, Body: "hello"})
		if err = merr; err == nil {
			w.message = m.ID
		}
	case "victim":
		w.victim = w.stranger()
	case "category":
		w.category = w.e.createCategory(admin, fmt.Sprint("category ", w.next()))
	case "invite":
		inv, ierr := st.CreateInvite(ctx, admin.ID, 1, 0)
		if err = ierr; err == nil {
			w.invite = inv.ID
		}
	case "reset":
		w.reset, _, err = st.CreatePasswordReset(ctx, w.resetUser.ID, admin.ID)
	default:
		w.t.Fatalf("renew %q: no such resource", what)
	}
	if err != nil {
		w.t.Fatalf("renew %s: %v", what, err)
	}
}

// newAuthzWorld makes the callers and what they act on: the author's post,
// room, message and picture, a private profile that friend is on the list
// of and that other follows, a category, an invite, a password reset and an
// account to disable.
func newAuthzWorld(t *testing.T) *authzWorld {
	e := newTestEnvWith(t, Config{RegisterRate: -1, PostRate: -1, RoomRate: -1, ChatRate: -1, ChatSockets: -1})
	w := &authzWorld{t: t, e: e}
	for role := range roleCount {
		w.actors[role] = w.newActor(role)
	}
	author := w.actors[roleAuthor].u
	res := e.upload(author.Access, map[string]string{"is_private": "true"}, "me.png", pngBytes(t, testImage(8, 8, true))).wantStatus(http.StatusOK)
	var p profileJSON
	res.decode(&p)
	if p.ProfilePicture == nil || !p.IsPrivate {
		t.Fatalf("author's profile: %s", res.Body)
	}
	w.picture = *p.ProfilePicture
	e.addFriend(author, w.actors[roleFriend].u)
	e.addFriend(w.actors[roleOther].u, author)
	w.resetUser = e.register("reset@example.com")
	for _, what := range []string{"post", "room", "category", "invite", "reset", "victim"} {
		w.renew(what)
	}
	return w
}

var wildcard = regexp.MustCompile(`\{[a-z_]+\}`)

// path is the address a row's route is called at.
func (w *authzWorld) path(row authzRow) string {
	_, pattern, _ := strings.Cut(row.route, " ")
	pattern = strings.TrimSuffix(pattern, "{$}")
	var v string
	switch row.id {
	case "":
		return pattern
	case "post":
		v = fmt.Sprint(w.post)
	case "room":
		v = fmt.Sprint(w.room)
	case "message":
		v = fmt.Sprint(w.message)
	case "victim":
		v = fmt.Sprint(w.victim.ID)
	case "category":
		v = fmt.Sprint(w.category)
	case "invite":
		v = fmt.Sprint(w.invite)
	case "author":
		v = fmt.Sprint(w.actors[roleAuthor].u.ID)
	case "resetuser":
		v = fmt.Sprint(w.resetUser.ID)
	case "reset":
		v = w.reset
	case "picture":
		return w.picture
	case "asset":
		v = "site.css"
	default:
		w.t.Fatalf("%s: unknown id %q", row.route, row.id)
	}
	if wildcard.MatchString(pattern) {
		return wildcard.ReplaceAllLiteralString(pattern, v)
	}
	return pattern + v
}

// call makes a's request of row and returns its outcome: the status, and
// for a redirect its Location.
func (w *authzWorld) call(row authzRow, a *actor, api bool) string {
	w.t.Helper()
	method, _, _ := strings.Cut(row.route, " ")
	path := w.path(row)
	if row.query != "" {
		path += "?" + row.query
	}
	var body any
	if row.body != nil {
		body = row.body(w, a)
	}
	if strings.HasPrefix(path, "/ws/") {
		return w.dial(path, a)
	}
	if api {
		token := ""
		if a.u != nil {
			token = a.u.Access
		}
		return outcome(w.e.do(method, path, token, body))
	}
	switch method {
	case "GET":
		return outcome(a.b.get(path))
	case "POST":
		form, _ := body.(url.Values)
		return outcome(a.b.post(path, form))
	}
	w.t.Fatalf("%s: a page answers GET and POST only", row.route)
	return ""
}

func outcome(res *response) string {
	if res.Status >= 300 && res.Status < 400 {
		return fmt.Sprint(res.Status, res.Header.Get("Location"))
	}
	return fmt.Sprint(res.Status)
}

// dial opens a chat socket as a and closes it again.
func (w *authzWorld) dial(path string, a *actor) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{}
	if a.u != nil {
		h.Set("Authorization", "Bearer "+a.u.Access)
	}
	c, res, err := websocket.Dial(ctx, w.e.wsURL(path), &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		c.Close(websocket.StatusNormalClosure, "")
	}
	if res == nil {
		w.t.Fatalf("dial %s: %v", path, err)
	}
	return fmt.Sprint(res.StatusCode)
}

// matches reports whether an outcome is the one wanted: the same status,
// and for a redirect a Location that starts as wanted ("/" alone means
// exactly the board).
func matches(got, want string) bool {
	if len(want) == 3 || want[3:] == "/" {
		return got == want
	}
	return strings.HasPrefix(got, want)
}

func TestAuthorizationTable(t *testing.T) {
	if testing.Short() {
		t.Skip("calls every route as six callers")
	}
	w := newAuthzWorld(t)
	registered := w.e.server.allRoutes
	rows := map[string]authzRow{}
	for _, row := range authzTable {
		if _, dup := rows[row.route]; dup {
			t.Errorf("two rows for %q", row.route)
		}
		rows[row.route] = row
		if !slices.Contains(registered, row.route) {
			t.Errorf("a row for %q, which routes.go does not register", row.route)
		}
	}
	for _, route := range registered {
		if _, ok := rows[route]; !ok {
			t.Errorf("route %q has no row in the authorization table (web/authz_test.go): say who may use it", route)
		}
	}
	for _, row := range authzTable {
		want := strings.Fields(row.want)
		if len(want) != roleCount {
			t.Errorf("%s: %d outcomes, want one per caller (%d)", row.route, len(want), roleCount)
			continue
		}
		api := slices.Contains(w.e.server.apiRoutes, row.route)
		for role := range roleCount {
			a := w.actors[role]
			if row.self {
				a = w.newActor(role)
			}
			got := w.call(row, a, api)
			if !matches(got, want[role]) {
				t.Errorf("%s as %s: %s, want %s", row.route, roleNames[role], got, want[role])
			}
			if row.spends != "" {
				w.renew(row.spends)
			}
		}
	}
}
