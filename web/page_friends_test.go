package web

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// /users/<id> follows the API's privacy rules exactly: a public profile is
// shown to everyone logged in, a private one only to those its owner added;
// the status of a private profile and every contact number belong to the
// whole profile.
func TestUserPagePrivacy(t *testing.T) {
	e := newTestEnv(t)
	viewer := e.register("viewer@example.com")
	pub := e.register("pub@example.com")
	priv := e.register("priv@example.com")
	privAdded := e.register("privadded@example.com")
	for _, u := range []*testUser{pub, priv, privAdded} {
		e.do("PATCH", "/mysite/user/v1/profile/edit/", u.Access, map[string]any{
			"status": "status of " + u.Email, "contact_number": "010-555-" + strconv.FormatInt(u.ID, 10),
			"is_private": u != pub,
		}).wantStatus(http.StatusOK)
	}
	e.do("POST", "/user/add-friend/", privAdded.Access, map[string]string{"email": viewer.Email}).wantStatus(http.StatusCreated)
	b := e.browser()
	b.login(viewer.Email)

	tests := []struct {
		name   string
		owner  *testUser
		status int
	}{
		{"public", pub, http.StatusOK},
		{"private, viewer not added", priv, http.StatusForbidden},
		{"private, viewer added", privAdded, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/users/" + strconv.FormatInt(tt.owner.ID, 10)
			api := e.do("GET", "/user/friend-profile/"+strconv.FormatInt(tt.owner.ID, 10)+"/", viewer.Access, nil)
			if api.Status != tt.status {
				t.Fatalf("API answers %d, the page must agree with it: want %d", api.Status, tt.status)
			}
			res := b.get(path).wantStatus(tt.status)
			contact := "010-555-" + strconv.FormatInt(tt.owner.ID, 10)
			if tt.status == http.StatusForbidden {
				res.wantBody("Not allowed", "You do not have permission").wantNoBody(contact, "status of", tt.owner.Email)
				return
			}
			res.wantBody(tt.owner.Email, contact, "status of "+tt.owner.Email)
		})
	}
	b.get("/users/999999").wantStatus(http.StatusNotFound)
	b.get("/users/abc").wantStatus(http.StatusNotFound)
	if loc := b.get("/users/" + strconv.FormatInt(viewer.ID, 10)).wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/profile" {
		t.Fatalf("my own /users/<id> went to %q, want /profile", loc)
	}
	if loc := e.browser().get("/users/" + strconv.FormatInt(pub.ID, 10)).wantStatus(http.StatusSeeOther).Header.Get("Location"); loc == "" {
		t.Fatal("a logged-out visitor was not sent to log in")
	}
}

// Lists and search show only what the API's lists show: never a contact
// number, and a private user's status only to those they added.
func TestFriendsPageHidesPrivateParts(t *testing.T) {
	e := newTestEnv(t)
	me := e.register("me@example.com")
	priv := e.register("secret@example.com")
	e.do("PATCH", "/mysite/user/v1/profile/edit/", priv.Access, map[string]any{
		"status": "my hidden status", "contact_number": "010-9999-0000", "is_private": true,
	}).wantStatus(http.StatusOK)
	b := e.browser()
	b.login(me.Email)
	// Found by the full address only, and without status or number.
	b.get("/friends?q=secret").wantStatus(http.StatusOK).wantBody("Nobody found.").wantNoBody("secret@example.com")
	b.get("/friends?q=secret@example.com").wantStatus(http.StatusOK).wantBody("secret@example.com").
		wantNoBody("my hidden status", "010-9999-0000")
	b.follow(b.post("/friends/add", url.Values{"email": {priv.Email}}))
	b.get("/friends").wantBody("secret@example.com").wantNoBody("my hidden status", "010-9999-0000")
	// Once they add me, the status shows on my list (not the number).
	e.do("POST", "/user/add-friend/", priv.Access, map[string]string{"email": me.Email}).wantStatus(http.StatusCreated)
	b.get("/friends").wantBody("my hidden status", `<span class="badge">Mutual</span>`).wantNoBody("010-9999-0000")
}

func TestFriendsPageFlows(t *testing.T) {
	e := newTestEnv(t)
	me := e.register("me@example.com")
	ann := e.register("ann@example.com")
	e.register("anna@example.com")
	b := e.browser()
	b.login(me.Email)

	b.get("/friends").wantStatus(http.StatusOK).wantBody("My list (0)", "Nobody on your list yet", `role="search"`)
	// Search: never myself; an add button per result, coming back here.
	res := b.get("/friends?q=example").wantStatus(http.StatusOK).wantBody("ann@example.com", "anna@example.com",
		`action="/friends/add"`, `name="next" value="/friends?q=example"`)
	res.wantNoBody(">me@example.com<")

	res = b.post("/friends/add", url.Values{"email": {"ann@example.com"}, "next": {"/friends?q=example"}})
	if loc := res.wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/friends?q=example" {
		t.Fatalf("add went to %q, want back to the search", loc)
	}
	b.get(res.Header.Get("Location")).wantBody("ann@example.com added", "My list (1)", `action="/friends/remove"`)

	// Refusals are shown on the page, with the search kept, and change nothing.
	refusals := []struct {
		name, path, email string
		status            int
		want              string
	}{
		{"already on my list", "/friends/add", "ann@example.com", http.StatusBadRequest, "ann@example.com is already on your list."},
		{"myself", "/friends/add", "me@example.com", http.StatusBadRequest, "You cannot add yourself."},
		{"unknown email", "/friends/add", "ghost@example.com", http.StatusNotFound, "No account has the address ghost@example.com."},
		{"not an email", "/friends/add", "not an email", http.StatusBadRequest, "Enter a valid email address."},
		{"remove someone not on my list", "/friends/remove", "anna@example.com", http.StatusBadRequest, "anna@example.com is not on your list."},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			b.post(tt.path, url.Values{"email": {tt.email}, "next": {"/friends?q=example"}}).wantStatus(tt.status).
				wantBody(`role="alert"`, tt.want, "My list (1)", `value="example"`, `name="next" value="/friends?q=example"`)
			var friends []map[string]any
			e.do("GET", "/user/friends/", me.Access, nil).decode(&friends)
			if len(friends) != 1 {
				t.Fatalf("a refusal changed the list: %v", friends)
			}
		})
	}

	// Mutual marker once they add me back; remove from the list.
	e.do("POST", "/user/add-friend/", ann.Access, map[string]string{"email": me.Email}).wantStatus(http.StatusCreated)
	b.get("/friends").wantBody(`<span class="badge">Mutual</span>`, `href="/users/`+strconv.FormatInt(ann.ID, 10)+`"`)
	b.follow(b.post("/friends/remove", url.Values{"email": {"ann@example.com"}})).wantBody("ann@example.com removed", "My list (0)")

	// A next that leaves the site is ignored.
	res = b.post("/friends/add", url.Values{"email": {"ann@example.com"}, "next": {"https://evil.example/"}})
	if loc := res.Header.Get("Location"); loc != "/friends" {
		t.Fatalf("add with a foreign next went to %q", loc)
	}
	b.get("/friends?q=" + url.QueryEscape("a\x01")).wantStatus(http.StatusBadRequest).wantBody(`id="q-err"><p class="field-error">`)
}

// The buttons on a profile say whether they are on my list and whether it
// is mutual, and bring me back to the profile.
func TestUserPageFriendButtons(t *testing.T) {
	e := newTestEnv(t)
	me := e.register("me@example.com")
	bo := e.register("bo@example.com")
	b := e.browser()
	b.login(me.Email)
	path := "/users/" + strconv.FormatInt(bo.ID, 10)

	b.get(path).wantBody(`action="/friends/add"`, "Add friend", `name="next" value="`+path+`"`).wantNoBody("On your list", "Added you")
	e.do("POST", "/user/add-friend/", bo.Access, map[string]string{"email": me.Email}).wantStatus(http.StatusCreated)
	b.get(path).wantBody("Added you", "Add friend")

	res := b.post("/friends/add", url.Values{"email": {bo.Email}, "next": {path}})
	if loc := res.wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != path {
		t.Fatalf("add went to %q, want %q", loc, path)
	}
	b.get(path).wantBody("bo@example.com added", "On your list", "Mutual", `action="/friends/remove"`, "Remove friend")
	b.follow(b.post("/friends/remove", url.Values{"email": {bo.Email}, "next": {path}})).
		wantBody("bo@example.com removed", "Add friend").wantNoBody("On your list")
}
