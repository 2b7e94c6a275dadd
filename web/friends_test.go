package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// addFriend puts friend on u's list through the API.
func (e *testEnv) addFriend(u, friend *testUser) {
	e.t.Helper()
	e.do("POST", "/user/add-friend/", u.Access, map[string]string{"email": friend.Email}).wantStatus(http.StatusCreated)
}

// editProfile changes u's profile through the API.
func (e *testEnv) editProfile(u *testUser, fields map[string]any) {
	e.t.Helper()
	e.do("PATCH", "/mysite/user/v1/profile/edit/", u.Access, fields).wantStatus(http.StatusOK)
}

func TestFriendRoutesNeedAUser(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("ann@example.com")
	for _, route := range []struct{ method, path string }{
		{"POST", "/user/add-friend/"},
		{"GET", "/user/friends/"},
		{"GET", fmt.Sprintf("/user/friend-profile/%d/", u.ID)},
		{"GET", "/user/search-friends/?keyword=ann"},
		{"POST", "/user/delete-friend/"},
	} {
		path, query, _ := strings.Cut(route.path, "?")
		if query != "" {
			query = "?" + query
		}
		for _, p := range []string{path, strings.TrimSuffix(path, "/")} {
			var body any
			if route.method == "POST" {
				body = map[string]string{"email": u.Email}
			}
			e.do(route.method, p+query, "", body).wantStatus(http.StatusUnauthorized).
				wantBody(`"detail":"Authentication credentials were not provided."`)
			e.do(route.method, p+query, "not-a-jwt", body).wantStatus(http.StatusUnauthorized).
				wantBody(`"code":"token_not_valid"`)
			// A refresh token is not an access token.
			e.do(route.method, p+query, u.Refresh, body).wantStatus(http.StatusUnauthorized).
				wantBody(`"code":"token_not_valid"`)
		}
	}
	e.do("GET", "/user/add-friend/", u.Access, nil).wantStatus(http.StatusMethodNotAllowed).
		wantBody(`"detail":"Method \"GET\" not allowed."`)
	e.do("DELETE", "/user/friends", u.Access, nil).wantStatus(http.StatusMethodNotAllowed)
}

func TestAddFriend(t *testing.T) {
	e := newTestEnv(t)
	ann := e.register("ann@example.com")
	bob := e.register("bob@example.com")

	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		want       string
	}{
		{"added", "/user/add-friend/", map[string]string{"email": "bob@example.com"}, 201,
			`{"message":"bob@example.com님을 친구로 추가했습니다."}`},
		{"again, any case, no slash", "/user/add-friend", map[string]string{"email": " BOB@Example.com"}, 400,
			`{"detail":"BOB@example.com님은 이미 친구 목록에 있습니다."}`},
		{"myself", "/user/add-friend/", map[string]string{"email": "ann@example.com"}, 400,
			`{"detail":"자기 자신은 친구로 추가할 수 없습니다."}`},
		{"unknown", "/user/add-friend/", map[string]string{"email": "nobody@example.com"}, 404,
			`{"detail":"Not found."}`},
		{"missing", "/user/add-friend/", map[string]string{}, 400,
			`{"email":["This field is required."]}`},
		{"blank", "/user/add-friend/", map[string]string{"email": " "}, 400,
			`{"email":["This field may not be blank."]}`},
		{"not an email", "/user/add-friend/", map[string]string{"email": "bob"}, 400,
			`{"email":["Enter a valid email address."]}`},
		{"not a string", "/user/add-friend/", map[string]any{"email": 7}, 400,
			`{"email":["Not a valid string."]}`},
		{"too long", "/user/add-friend/", map[string]string{"email": strings.Repeat("a", 300) + "@example.com"}, 400,
			`{"email":["Ensure this field has no more than 254 characters."]}`},
		{"not JSON", "/user/add-friend/", "{", 400, `"detail":"JSON parse error`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			res := e.do("POST", tc.path, ann.Access, tc.body).wantStatus(tc.status).wantBody(tc.want)
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
		})
	}
	e.t = t
	// Adding is one-directional: bob's list is still empty.
	e.do("GET", "/user/friends/", bob.Access, nil).wantStatus(200).wantBody("[]")
}

func TestFriendListMutual(t *testing.T) {
	e := newTestEnv(t)
	ann := e.register("ann@example.com")
	bob := e.register("bob@example.com")
	cy := e.register("cy@example.com")
	e.editProfile(bob, map[string]any{"status": "hello", "nickname": "Bobby"})
	e.addFriend(ann, bob)
	e.addFriend(ann, cy)
	e.addFriend(bob, ann)

	var list []map[string]any
	e.do("GET", "/user/friends", ann.Access, nil).wantStatus(200).decode(&list)
	want := []map[string]any{
		{"id": float64(bob.ID), "email": "bob@example.com", "nickname": "Bobby", "profile_picture": nil, "status": "hello", "mutual": true},
		{"id": float64(cy.ID), "email": "cy@example.com", "nickname": "cy", "profile_picture": nil, "status": "", "mutual": false},
	}
	if fmt.Sprint(list) != fmt.Sprint(want) {
		t.Errorf("ann's friends:\n got %v\nwant %v", list, want)
	}
	e.do("GET", "/user/friends/", bob.Access, nil).wantStatus(200).
		wantBody(fmt.Sprintf(`[{"id":%d,"email":"ann@example.com","nickname":"ann","profile_picture":null,"status":"","mutual":true}]`, ann.ID))
	e.do("GET", "/user/friends/", cy.Access, nil).wantStatus(200).wantBody("[]")
}

func TestDeleteFriend(t *testing.T) {
	e := newTestEnv(t)
	ann := e.register("ann@example.com")
	bob := e.register("bob@example.com")
	cy := e.register("cy@example.com")
	e.addFriend(ann, bob)
	e.addFriend(cy, bob)

	// Another user's token works on that user's list only.
	e.do("POST", "/user/delete-friend/", cy.Access, map[string]string{"email": "ann@example.com"}).
		wantStatus(400).wantBody(`{"detail":"ann@example.com님은 친구 목록에 없습니다."}`)

	e.do("POST", "/user/delete-friend", ann.Access, map[string]string{"email": "bob@example.com"}).
		wantStatus(200).wantBody(`{"message":"bob@example.com님을 친구 목록에서 삭제했습니다."}`)
	e.do("GET", "/user/friends/", ann.Access, nil).wantStatus(200).wantBody("[]")
	e.do("GET", "/user/friends/", cy.Access, nil).wantStatus(200).wantBody(`"email":"bob@example.com"`)

	for _, tc := range []struct {
		body   any
		status int
		want   string
	}{
		{map[string]string{"email": "bob@example.com"}, 400, `{"detail":"bob@example.com님은 친구 목록에 없습니다."}`},
		{map[string]string{"email": "user5@email.com"}, 400, `{"detail":"user5@email.com님은 친구 목록에 없습니다."}`},
		{map[string]string{}, 400, `{"email":["This field is required."]}`},
		{map[string]string{"email": ""}, 400, `{"email":["This field may not be blank."]}`},
	} {
		e.do("POST", "/user/delete-friend/", ann.Access, tc.body).wantStatus(tc.status).wantBody(tc.want)
	}
}

func TestFriendProfilePrivacy(t *testing.T) {
	e := newTestEnv(t)
	owner := e.register("owner@example.com")
	viewer := e.register("viewer@example.com")
	pub := e.register("public@example.com")
	e.editProfile(owner, map[string]any{"is_private": true, "contact_number": "010-1234-5678", "status": "busy"})
	e.editProfile(pub, map[string]any{"contact_number": "010-9999-0000"})
	profile := func(u *testUser) string { return fmt.Sprintf("/user/friend-profile/%d/", u.ID) }

	// A public profile is everyone's to see; an unknown id is 404.
	e.do("GET", profile(pub), viewer.Access, nil).wantStatus(200).
		wantBody(`"email":"public@example.com"`, `"contact_number":"010-9999-0000"`)
	e.do("GET", "/user/friend-profile/99999/", viewer.Access, nil).wantStatus(404).wantBody(`{"detail":"Not found."}`)
	e.do("GET", "/user/friend-profile/abc/", viewer.Access, nil).wantStatus(404)

	// Private, and the owner has not added the viewer: 403, even once the
	// viewer has added the owner.
	forbidden := func() {
		t.Helper()
		res := e.do("GET", profile(owner), viewer.Access, nil).wantStatus(403).
			wantBody(`{"detail":"You do not have permission to perform this action."}`)
		if bytes.Contains(res.Body, []byte("010-1234")) {
			t.Errorf("403 body leaks the contact number: %s", res.Body)
		}
	}
	forbidden()
	e.addFriend(viewer, owner)
	forbidden()

	// The viewer's list and search results show the owner without the
	// private part of the profile.
	noLeak := func(res *response) {
		t.Helper()
		if bytes.Contains(res.Body, []byte("010-1234")) || bytes.Contains(res.Body, []byte("busy")) {
			t.Errorf("%s leaks the private profile: %s", res.req, res.Body)
		}
	}
	noLeak(e.do("GET", "/user/friends/", viewer.Access, nil).wantStatus(200).wantBody(`"email":"owner@example.com"`, `"status":""`))
	noLeak(e.do("GET", "/user/search-friends/?keyword=owner@example.com", viewer.Access, nil).wantStatus(200).
		wantBody(`"email":"owner@example.com"`, `"status":""`, `"is_friend":true`))

	// The owner always sees their own profile.
	e.do("GET", profile(owner), owner.Access, nil).wantStatus(200).wantBody(`"contact_number":"010-1234-5678"`)

	// Once the owner adds the viewer, the viewer sees it all.
	e.addFriend(owner, viewer)
	e.do("GET", profile(owner), viewer.Access, nil).wantStatus(200).
		wantBody(`"contact_number":"010-1234-5678"`, `"is_private":true`)
	e.do("GET", "/user/friends/", viewer.Access, nil).wantStatus(200).wantBody(`"status":"busy"`, `"mutual":true`)
	e.do("GET", "/user/search-friends/?keyword=owner@example.com", viewer.Access, nil).wantStatus(200).wantBody(`"status":"busy"`)
	// ...but nobody else does.
	e.do("GET", profile(owner), pub.Access, nil).wantStatus(403)

	// And when the owner takes the viewer off their list, it is private again.
	e.do("POST", "/user/delete-friend/", owner.Access, map[string]string{"email": viewer.Email}).wantStatus(200)
	forbidden()
}

func TestSearchFriends(t *testing.T) {
	e := newTestEnv(t)
	me := e.register("me@example.com")
	alice := e.register("Alice@example.com")
	malice := e.register("malice@example.org")
	secret := e.register("secret@example.com")
	e.register("50%off@example.com")
	e.editProfile(secret, map[string]any{"is_private": true})
	e.editProfile(alice, map[string]any{"status": "hi"})
	e.addFriend(me, malice)

	search := func(kw string) []map[string]any {
		t.Helper()
		var out []map[string]any
		e.do("GET", "/user/search-friends/?keyword="+url.QueryEscape(kw), me.Access, nil).wantStatus(200).decode(&out)
		return out
	}
	emails := func(kw string) string {
		t.Helper()
		var got []string
		for _, m := range search(kw) {
			got = append(got, m["email"].(string))
		}
		return strings.Join(got, " ")
	}
	for _, tc := range []struct{ keyword, want string }{
		{"alice", "Alice@example.com malice@example.org"},
		{"ALICE", "Alice@example.com malice@example.org"},
		{"me@", ""}, // never myself
		{"secret", ""},
		{"secret@example.com", "secret@example.com"},
		{"%", "50%off@example.com"},
		{"0%o", "50%off@example.com"},
		{"_", ""},
		{"'", ""},
		{`"`, ""},
		{"example.org", "malice@example.org"},
	} {
		if got := emails(tc.keyword); got != tc.want {
			t.Errorf("keyword %q: got [%s], want [%s]", tc.keyword, got, tc.want)
		}
	}

	got := search("alice")
	want := fmt.Sprint([]map[string]any{
		{"id": float64(alice.ID), "email": "Alice@example.com", "nickname": "Alice", "profile_picture": nil, "status": "hi", "is_friend": false},
		{"id": float64(malice.ID), "email": "malice@example.org", "nickname": "malice", "profile_picture": nil, "status": "", "is_friend": true},
	})
	if fmt.Sprint(got) != want {
		t.Errorf("search results:\n got %v\nwant %v", got, want)
	}

	e.do("GET", "/user/search-friends?keyword=nobody", me.Access, nil).wantStatus(200).wantBody("[]")
	for _, tc := range []struct{ query, want string }{
		{"", `{"keyword":["This field is required."]}`},
		{"?keyword=", `{"keyword":["This field may not be blank."]}`},
		{"?keyword=%20%20", `{"keyword":["This field may not be blank."]}`},
		{"?keyword=" + strings.Repeat("a", 255), `{"keyword":["Ensure this field has no more than 254 characters."]}`},
		{"?keyword=a%00b", `{"keyword":["This field may not contain control characters."]}`},
	} {
		e.do("GET", "/user/search-friends/"+tc.query, me.Access, nil).wantStatus(400).wantBody(tc.want)
	}
}

func TestSearchFriendsLimit(t *testing.T) {
	e := newTestEnvWith(t, Config{RegisterRate: -1}) // 56 sign-ups from one address
	me := e.register("me@example.com")
	for i := range 55 {
		e.register(fmt.Sprintf("member%02d@club.example", i))
	}
	var out []struct{ Email string }
	e.do("GET", "/user/search-friends/?keyword=member", me.Access, nil).wantStatus(200).decode(&out)
	if len(out) != 50 {
		t.Fatalf("%d results, want 50", len(out))
	}
	for i, m := range out {
		if want := fmt.Sprintf("member%02d@club.example", i); m.Email != want {
			t.Fatalf("result %d is %s, want %s (a stable order)", i, m.Email, want)
		}
	}
}

// Two adds of the same friend racing each other leave one entry: one
// request gets 201, every other one 400.
func TestAddFriendConcurrentRequests(t *testing.T) {
	e := newTestEnv(t)
	ann := e.register("ann@example.com")
	e.register("bob@example.com")
	const n = 8
	statuses := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequest("POST", e.http.URL+"/user/add-friend/", strings.NewReader(`{"email":"bob@example.com"}`))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+ann.Access)
			<-start
			res, err := e.http.Client().Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for i := range n {
		switch {
		case errs[i] != nil:
			t.Fatalf("request %d: %v", i, errs[i])
		case statuses[i] == http.StatusCreated:
			created++
		case statuses[i] != http.StatusBadRequest:
			t.Errorf("request %d: status %d, want 201 or 400", i, statuses[i])
		}
	}
	var list []struct{ Email string }
	e.do("GET", "/user/friends/", ann.Access, nil).wantStatus(200).decode(&list)
	if created != 1 || len(list) != 1 {
		t.Errorf("%d requests got 201 and the list has %d entries, want 1 and 1", created, len(list))
	}
}
