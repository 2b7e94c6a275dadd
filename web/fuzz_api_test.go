package web

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"maru/store"
)

// The JSON bodies of each API family, fuzzed through the real handlers
// (fuzz_env_test.go says how). Seeds may hold placeholders ($EMAIL,
// $PASSWORD, $REFRESH, $OTHER, $ROOM, $CATEGORY) that each request fills
// with what this process knows, so that valid requests stay valid
// across runs and the fuzzer mutates around them.

// FuzzAccountBodies: registration, login, token refresh, logout, password
// change and account deletion.
func FuzzAccountBodies(f *testing.F) {
	fuzzJSONRoutes(f, []fuzzRoute{
		{method: "POST", path: "/user/registration/", who: asAnonymous, check: checkRegistered, seeds: []string{
			`{"email":"new@example.com","password":"long enough pw"}`,
			`{"email":"New.Person+tag@EXAMPLE.com","password":"long enough pw","nickname":"  새 사람  "}`,
			`{"email":"$OTHER","password":"long enough pw"}`, `{"email":"a@b","password":"12345678"}`,
			`{"email":"x@example.com","password":"x@example.com"}`, `{"email":null}`, `{"email":1}`, `[]`, ``,
			`{"email":"` + strings.Repeat("a", 250) + `@example.com","password":"long enough pw"}`,
			`{"email":"n@example.com","password":"long enough pw","nickname":"a\u0000b"}`,
			`{"email":"i@example.com","password":"long enough pw","invite":"nope"}`,
		}},
		{method: "POST", path: "/user/login/", who: asAnonymous, check: checkLoggedIn, seeds: []string{
			`{"email":"owner@example.com","password":"$PASSWORD"}`, `{"email":"OWNER@example.com ","password":"$PASSWORD"}`,
			`{"email":"owner@example.com","password":"wrong one"}`, `{"email":"","password":""}`, `{"password":"x"}`,
			`{"email":"` + strings.Repeat("a", 300) + `","password":"x"}`, `{"email":["x"],"password":{}}`,
		}},
		{method: "POST", path: "/user/token/refresh/", who: asOwner, check: checkRefreshed, seeds: []string{
			`{"refresh":"$REFRESH"}`, `{"refresh":""}`, `{"refresh":"a.b.c"}`, `{"refresh":null}`, `{}`, `{"refresh":7}`,
		}},
		{method: "POST", path: "/user/logout/", who: asOwner, seeds: []string{
			`{"refresh":"$REFRESH"}`, `{}`, ``, `{"refresh":"x"}`, `{"refresh":false}`,
		}},
		{method: "POST", path: "/user/password/change/", who: asFresh, check: checkPasswordChanged, seeds: []string{
			`{"old_password":"$PASSWORD","new_password":"another long one"}`,
			`{"old_password":"$PASSWORD","new_password":"another long one","refresh":"$REFRESH"}`,
			`{"old_password":"$PASSWORD","new_password":"short"}`, `{"old_password":"wrong","new_password":"another long one"}`,
			`{"old_password":"$PASSWORD","new_password":"$EMAIL"}`, `{"old_password":"$PASSWORD"}`,
			`{"old_password":"$PASSWORD","new_password":"` + strings.Repeat("é", 40) + `"}`,
		}},
		{method: "POST", path: "/user/delete/", who: asFresh, check: checkDeleted, seeds: []string{
			`{"password":"$PASSWORD"}`, `{"password":"wrong"}`, `{}`, `{"password":1}`,
		}},
	})
}

func checkRegistered(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got struct {
		Email   string
		Profile profileJSON
	}
	x.decode(t, &got)
	if !store.ValidEmail(got.Email) || got.Profile.Email != got.Email {
		t.Fatalf("registered %q (profile %q): not a valid address", got.Email, got.Profile.Email)
	}
	checkProfile(t, got.Profile)
	// What was registered logs in, with the address as sent.
	var req registrationRequest
	x.request(t, &req)
	body := fmt.Appendf(nil, `{"email":%q,"password":%q}`, *req.Email, *req.Password)
	if rec := fe.api("POST", "/user/login/", nil, body); rec.Code != http.StatusOK {
		t.Fatalf("registered with %s, then login %s: status %d %s", x.sent, body, rec.Code, rec.Body)
	}
}

func checkLoggedIn(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got struct {
		Profile         profileJSON
		Access, Refresh string
	}
	x.decode(t, &got)
	var me profileJSON
	fe.get(t, "/mysite/user/v1/profile/", &fuzzCaller{access: got.Access}, &me)
	if me.ID != got.Profile.ID || got.Refresh == "" {
		t.Fatalf("logged in as %d, the access token is %d's", got.Profile.ID, me.ID)
	}
}

func checkRefreshed(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got struct{ Access, Refresh string }
	x.decode(t, &got)
	var me profileJSON
	fe.get(t, "/mysite/user/v1/profile/", &fuzzCaller{access: got.Access}, &me)
	if me.ID != x.caller.user.ID || got.Refresh == "" {
		t.Fatalf("refreshed %d's token, got %d's", x.caller.user.ID, me.ID)
	}
}

func checkPasswordChanged(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got struct{ Access string }
	x.decode(t, &got)
	fe.get(t, "/mysite/user/v1/profile/", &fuzzCaller{access: got.Access}, nil)
	if rec := fe.api("GET", "/mysite/user/v1/profile/", x.caller, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("the access token from before the change: status %d, want 401", rec.Code)
	}
	var req passwordChangeRequest
	x.request(t, &req)
	body := fmt.Appendf(nil, `{"email":%q,"password":%q}`, x.caller.user.Email, *req.NewPassword)
	if rec := fe.api("POST", "/user/login/", nil, body); rec.Code != http.StatusOK {
		t.Fatalf("changed the password with %s, then login: status %d %s", x.sent, rec.Code, rec.Body)
	}
}

func checkDeleted(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	if rec := fe.api("GET", "/mysite/user/v1/profile/", x.caller, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("a deleted account's token: status %d, want 401", rec.Code)
	}
}

// checkProfile checks a profile's fields against their limits.
func checkProfile(t *testing.T, p profileJSON) {
	t.Helper()
	if p.ID <= 0 || p.User != p.ID {
		t.Fatalf("profile id %d, user %d", p.ID, p.User)
	}
	checkText(t, "nickname", p.Nickname, 1, store.MaxNicknameLen, false)
	checkText(t, "contact_number", p.ContactNumber, 0, store.MaxContactLen, false)
	checkText(t, "status", p.Status, 0, store.MaxStatusLen, true)
	if p.ProfilePicture != nil && !strings.HasPrefix(*p.ProfilePicture, "/media/pictures/") {
		t.Fatalf("profile_picture %q", *p.ProfilePicture)
	}
}

// FuzzProfileBodies: the JSON profile edit, by PUT and PATCH.
func FuzzProfileBodies(f *testing.F) {
	seeds := []string{
		`{"nickname":"미나","status":"공부 중","contact_number":"010-1234-5678","is_private":true}`,
		`{"nickname":"  spaced  "}`, `{"nickname":""}`, `{"nickname":null}`, `{"status":"line\nbreak"}`,
		`{"status":"` + strings.Repeat("가", 201) + `"}`, `{"contact_number":"\u0007"}`, `{"is_private":"yes"}`,
		`{"profile_picture":null}`, `{"profile_picture":""}`, `{"profile_picture":"x.png"}`, `{"profile_picture":{}}`,
		`{}`, ``, `[1]`, `{"nickname":"\ud800"}`,
	}
	fuzzJSONRoutes(f, []fuzzRoute{
		{method: "PATCH", path: "/mysite/user/v1/profile/edit/", who: asOwner, check: checkProfileEdited, seeds: seeds},
		{method: "PUT", path: "/mysite/user/v1/profile/edit/", who: asOwner, check: checkProfileEdited, seeds: seeds},
	})
}

func checkProfileEdited(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got, stored profileJSON
	x.decode(t, &got)
	checkProfile(t, got)
	fe.get(t, "/mysite/user/v1/profile/", x.caller, &stored)
	if got != stored {
		t.Fatalf("edit answered %+v, reads back as %+v", got, stored)
	}
}

// FuzzPostBodies: writing and editing posts, and the list's search body.
func FuzzPostBodies(f *testing.F) {
	edits := []string{
		`{"title":"new title"}`, `{"content":"new\r\ncontent"}`, `{"tags":[]}`, `{"tags":["a","A"," b "]}`,
		`{"tags":[{"name":"x"}]}`, `{"category":null}`, `{"category":"$CATEGORY"}`, `{"category":999999}`,
		`{"title":""}`, `{"title":"two\nlines"}`, `{"tags":"x"}`, `{"tags":[1]}`, `{}`,
	}
	fuzzJSONRoutes(f, []fuzzRoute{
		{method: "POST", path: "/api/post/write", who: asOwner, check: checkPostWritten, seeds: []string{
			`{"title":"제목","content":"내용","tags":["태그1",{"name":"태그2"}],"category":$CATEGORY}`,
			`{"title":"  t  ","content":"  c  ","tags":["a","A","a "],"category":"$CATEGORY"}`,
			`{"title":"t","content":"c","tags":["` + strings.Repeat("x", 31) + `"]}`,
			`{"title":"t","content":"c","tags":["1","2","3","4","5","6","7","8","9","10","11"]}`,
			`{"title":"` + strings.Repeat("가", 201) + `","content":"c"}`, `{"title":"t","content":"\u0000"}`,
			`{"title":"t","content":"c","category":-1}`, `{"title":"t","content":"c","category":1e3}`,
			`{"title":"t","content":"c","tags":[{"name":null}]}`, `{"title":"t"}`, `{"title":1,"content":[]}`,
		}},
		{method: "POST", path: "/api/post/detail/{post}/edit/", who: asOwner, check: checkPostWritten, seeds: edits},
		{method: "PUT", path: "/api/post/detail/{post}/edit/", who: asOwner, check: checkPostWritten, seeds: edits},
		{method: "PATCH", path: "/api/post/detail/{post}/edit/", who: asOwner, check: checkPostWritten, seeds: edits},
		{method: "POST", path: "/api/post/", who: asAnonymous, check: checkPostList, seeds: []string{
			`{"search":"제목"}`, `{"search":"a \"b\" OR c*"}`, `{"tag":"t","category":$CATEGORY}`, `{"category":"x"}`,
			`{"page":2,"page_size":"1"}`, `{"page":99999999999999999999999}`, `{"page_size":0}`, `{"page":1.5}`,
			`{"search":"` + strings.Repeat("a ", 20) + `"}`, `{}`, ``,
		}},
	})
}

func checkPost(t *testing.T, p postJSON) {
	t.Helper()
	if p.ID <= 0 || p.PostID != p.ID || p.Author.ID <= 0 {
		t.Fatalf("post ids: %+v", p)
	}
	checkText(t, "title", p.Title, 1, store.MaxTitleLen, false)
	checkText(t, "content", p.Content, 1, store.MaxContentLen, true)
	if len(p.Tags) > store.MaxTags {
		t.Fatalf("%d tags: %v", len(p.Tags), p.Tags)
	}
	seen := map[string]bool{}
	for _, tag := range p.Tags {
		checkText(t, "tag", tag.Name, 1, store.MaxTagLen, false)
		if k := strings.ToLower(tag.Name); seen[k] {
			t.Fatalf("tag %q twice in %v", tag.Name, p.Tags)
		} else {
			seen[k] = true
		}
	}
	if p.Category != nil && *p.Category <= 0 {
		t.Fatalf("category %d", *p.Category)
	}
}

func checkPostWritten(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got, stored postJSON
	x.decode(t, &got)
	checkPost(t, got)
	fe.get(t, fmt.Sprintf("/api/post/detail/%d/edit/", got.ID), x.caller, &stored)
	got.Hit, stored.Hit = 0, 0
	if !reflect.DeepEqual(got, stored) {
		t.Fatalf("wrote %+v, reads back as %+v", got, stored)
	}
}

func checkPostList(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got []postJSON
	x.decode(t, &got)
	if len(got) > store.MaxPageSize {
		t.Fatalf("%d posts on a page", len(got))
	}
	for _, p := range got {
		checkPost(t, p)
	}
}

// FuzzCategoryBodies: creating and renaming categories (an admin's).
func FuzzCategoryBodies(f *testing.F) {
	seeds := []string{
		`{"name":"공지"}`, `{"name":"  spaced  "}`, `{"name":"NEWS"}`, `{"name":""}`, `{"name":null}`, `{"name":5}`,
		`{"name":"` + strings.Repeat("x", 51) + `"}`, `{"name":"a\tb"}`, `{"name":"\u202e"}`, `{}`, ``,
	}
	fuzzJSONRoutes(f, []fuzzRoute{
		{method: "POST", path: "/api/post/categories/create", who: asAdmin, check: checkCategory, seeds: seeds},
		{method: "PUT", path: "/api/post/categories/{category}", who: asAdmin, check: checkCategory, seeds: seeds},
		{method: "PATCH", path: "/api/post/categories/{category}", who: asAdmin, check: checkCategory, seeds: seeds},
	})
}

func checkCategory(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got categoryJSON
	x.decode(t, &got)
	checkText(t, "name", got.Name, 1, 50, false)
	var all []categoryJSON
	fe.get(t, "/api/post/categories", nil, &all)
	n := 0
	for _, c := range all {
		if strings.EqualFold(c.Name, got.Name) {
			n++
			if c != got {
				t.Fatalf("category %+v reads back as %+v", got, c)
			}
		}
	}
	if n != 1 {
		t.Fatalf("category %q is listed %d times: %v", got.Name, n, all)
	}
}

// FuzzFriendBodies: adding and removing a friend.
func FuzzFriendBodies(f *testing.F) {
	seeds := []string{
		`{"email":"$OTHER"}`, `{"email":"OTHER@EXAMPLE.COM"}`, `{"email":" $OTHER "}`, `{"email":"$EMAIL"}`,
		`{"email":"nobody@example.com"}`, `{"email":""}`, `{"email":null}`, `{"email":["$OTHER"]}`, `{}`,
		`{"email":"` + strings.Repeat("a", 300) + `"}`,
	}
	fuzzJSONRoutes(f, []fuzzRoute{
		{method: "POST", path: "/user/add-friend/", who: asOwner, check: checkFriendList, seeds: seeds},
		{method: "POST", path: "/user/delete-friend/", who: asOwner, check: checkFriendList, seeds: seeds},
	})
}

func checkFriendList(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var list []friendJSON
	fe.get(t, "/user/friends/", x.caller, &list)
	seen := map[int64]bool{}
	for _, fr := range list {
		if seen[fr.ID] || fr.ID == x.caller.user.ID {
			t.Fatalf("friend list %+v: %d twice or the user itself", list, fr.ID)
		}
		seen[fr.ID] = true
	}
}

// FuzzChatBodies: creating a room and sending a message over REST.
func FuzzChatBodies(f *testing.F) {
	fuzzJSONRoutes(f, []fuzzRoute{
		{method: "POST", path: "/api/chat/room/", who: asOwner, check: checkRoom, seeds: []string{
			`{"name":"스터디"}`, `{"name":"  x  "}`, `{"name":""}`, `{"name":null}`, `{"name":"a\nb"}`,
			`{"name":"` + strings.Repeat("방", 101) + `"}`, `{}`, `{"name":{"a":1}}`,
		}},
		{method: "POST", path: "/api/chat/message/", who: asOwner, check: checkMessage, seeds: []string{
			`{"type":"chat.message","message":"Hello, World!","room":$ROOM}`, `{"message":"안녕\r\n하세요","room":"$ROOM"}`,
			`{"type":"chat.other","message":"x","room":$ROOM}`, `{"message":"   ","room":$ROOM}`,
			`{"message":"x","room":999999}`, `{"message":"x","room":"x"}`, `{"message":"x","room":-1}`,
			`{"message":"x","room":99999999999999999999}`, `{"message":"x\u0000","room":$ROOM}`,
			`{"message":"` + strings.Repeat("a", 2001) + `","room":$ROOM}`, `{"message":1,"room":$ROOM}`, `{}`,
		}},
	})
}

func checkRoom(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got, stored roomJSON
	x.decode(t, &got)
	checkText(t, "name", got.Name, 1, store.MaxRoomNameLen, false)
	if got.ChatURL != fmt.Sprintf("/ws/chat/%d/chat/", got.ID) {
		t.Fatalf("room %d: chat_url %q", got.ID, got.ChatURL)
	}
	fe.get(t, fmt.Sprintf("/api/chat/room/%d/", got.ID), x.caller, &stored)
	if got != stored {
		t.Fatalf("room %+v reads back as %+v", got, stored)
	}
}

func checkMessage(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got messageJSON
	x.decode(t, &got)
	checkText(t, "message", got.Message, 1, fe.server.cfg.ChatMaxLen, true)
	if got.Type != frameMessage || got.Sender != x.caller.user.Email {
		t.Fatalf("message %+v", got)
	}
	var history []messageJSON
	fe.get(t, fmt.Sprintf("/api/chat/room/%d/messages/?before=%d&limit=1", got.Room, got.ID+1), x.caller, &history)
	if len(history) != 1 || !reflect.DeepEqual(history[0], got) {
		t.Fatalf("sent %+v, the history has %+v", got, history)
	}
}

// FuzzAdminBodies: the admin API's bodies (invites).
func FuzzAdminBodies(f *testing.F) {
	fuzzJSONRoutes(f, []fuzzRoute{
		{method: "POST", path: "/api/admin/invites/", who: asAdmin, check: checkInvite, seeds: []string{
			`{}`, ``, `{"max_uses":30,"expires_in_days":14}`, `{"max_uses":0}`, `{"max_uses":1001}`,
			`{"expires_in_days":0}`, `{"expires_in_days":366}`, `{"expires_in_days":-1}`,
			`{"max_uses":9223372036854775807,"expires_in_days":9223372036854775807}`, `{"max_uses":"5"}`, `{"max_uses":1.5}`,
		}},
	})
}

func checkInvite(t *testing.T, fe *fuzzEnv, x *fuzzExchange) {
	var got inviteJSON
	x.decode(t, &got)
	if got.MaxUses < 1 || got.MaxUses > store.MaxInviteUses || got.Uses != 0 || !got.Usable || got.Code == "" {
		t.Fatalf("invite %+v", got)
	}
	if got.ExpiresAt != nil {
		exp, err := time.Parse(time.RFC3339Nano, *got.ExpiresAt)
		if now := fe.store.Now(); err != nil || !exp.After(now) || exp.After(now.Add(store.MaxInviteTTL)) {
			t.Fatalf("invite expires %q (%v)", *got.ExpiresAt, err)
		}
	}
}
