package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"maru/store"
)

// A validation message with a limit in it is translated with its number,
// whatever field and limit it is about.
func TestTranslateMessageWithNumber(t *testing.T) {
	tests := []struct{ lang, msg, want string }{
		{"ko", "Ensure this field has no more than 50 characters.", "50자 이하로 입력하세요."},
		{"en", "Ensure this field has no more than 200 characters.", "At most 200 characters."},
		{"ko", "This field may not be blank.", "비워 둘 수 없습니다."},
		{"ko", "Some message 12 nobody knows.", "Some message 12 nobody knows."},
		{"ko", "Ensure this field has no more than 99999999999999999999 characters.", "Ensure this field has no more than 99999999999999999999 characters."},
	}
	for _, tt := range tests {
		if got := translateMessage(tt.lang, tt.msg); got != tt.want {
			t.Errorf("translateMessage(%q, %q) = %q, want %q", tt.lang, tt.msg, got, tt.want)
		}
	}
}

// postMultipart submits a multipart form from a page of this site, with a
// file under "profile_picture" when data is not nil.
func (b *browser) postMultipart(path string, fields map[string]string, filename string, data []byte) *response {
	b.e.t.Helper()
	ct, body := multipartBody(b.e.t, fields, filename, data)
	req, err := http.NewRequest("POST", b.url+path, bytes.NewReader(body))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.url)
	return sendWith(b.e.t, b.c, req)
}

// profileOf is u's profile as the API reads it back.
func (e *testEnv) profileOf(u *testUser) string {
	e.t.Helper()
	return string(e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantStatus(http.StatusOK).Body)
}

func TestProfilePage(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("me@example.com")
	e.do("PATCH", "/mysite/user/v1/profile/edit/", u.Access, map[string]any{
		"nickname": "미나", "status": "공부 중", "contact_number": "010-1234-5678", "is_private": true,
	}).wantStatus(http.StatusOK)
	if _, err := e.store.CreatePost(context.Background(), store.NewPost{AuthorID: u.ID, Title: "첫 글", Content: "내용"}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	if loc := b.get("/profile").wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/login?next=%2Fprofile" {
		t.Fatalf("logged-out /profile went to %q", loc)
	}
	b.login(u.Email)
	b.get("/profile").wantStatus(http.StatusOK).wantBody(
		"미나", "me@example.com", "공부 중", "010-1234-5678", "Private: only people I have added",
		`href="/profile/edit"`, "Posts (1)", "첫 글", `<span class="avatar big blank"`)
	b.get("/profile/edit").wantStatus(http.StatusOK).wantBody(
		`enctype="multipart/form-data"`, `value="미나"`, `value="공부 중"`, `value="010-1234-5678"`,
		`name="is_private" type="checkbox" value="on" aria-describedby="private-hint" checked`,
		`data-preview="picture-preview"`, `for="nickname"`, `for="contact_number"`)
}

// A refused edit comes back with what was typed and the message beside its
// field, and changes nothing; a good one says "Saved" on the profile.
func TestProfileEditPage(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("edit@example.com")
	b := e.browser()
	b.login(u.Email)
	before := e.profileOf(u)

	bad := []struct {
		name   string
		fields map[string]string
		want   []string
	}{
		{"long nickname", map[string]string{"nickname": strings.Repeat("가", 51), "status": "kept status", "contact_number": "010"},
			[]string{`id="nickname-err"><p class="field-error">At most 50 characters.`, `value="kept status"`, strings.Repeat("가", 51)}},
		{"bad contact number", map[string]string{"nickname": "new name", "contact_number": "call me", "is_private": "on"},
			[]string{"Enter a valid phone number", `value="call me"`, `value="new name"`, `aria-describedby="private-hint" checked`, `aria-invalid="true"`}},
		{"blank nickname", map[string]string{"nickname": "  ", "status": "x"},
			[]string{"This field may not be blank."}},
		{"not an image", map[string]string{"nickname": "new name"},
			[]string{`id="picture-err"><p class="field-error">Upload a valid image.`, `value="new name"`}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var data []byte
			if tt.name == "not an image" {
				data = []byte("plain text, not a picture")
			}
			b.postMultipart("/profile/edit", tt.fields, "x.gif", data).wantStatus(http.StatusBadRequest).wantBody(tt.want...)
			if after := e.profileOf(u); after != before {
				t.Fatalf("a refused edit changed the profile:\n%s\nwas\n%s", after, before)
			}
		})
	}

	// A urlencoded form (no picture field at all) works too, and an
	// unticked private box makes the profile public.
	res := b.post("/profile/edit", url.Values{"nickname": {"새 이름"}, "status": {"hello"}, "contact_number": {"+82 10-1111-2222"}})
	b.follow(res).wantStatus(http.StatusOK).wantBody("Saved", "새 이름", "hello", "82 10-1111-2222", "Public: every member")
	e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantBody(`"nickname":"새 이름"`, `"is_private":false`)
}

func TestProfilePictureUploadAndRemoval(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("pic@example.com")
	b := e.browser()
	b.login(u.Email)

	fields := map[string]string{"nickname": "pic", "status": "", "contact_number": ""}
	res := b.postMultipart("/profile/edit", fields, "me.png", pngBytes(t, testImage(900, 600, true)))
	page := b.follow(res).wantStatus(http.StatusOK).wantBody("Saved", `id="profile-picture" src="/media/pictures/`)
	var p struct {
		ProfilePicture string `json:"profile_picture"`
	}
	e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).decode(&p)
	if p.ProfilePicture == "" || !bytes.Contains(page.Body, []byte(`src="`+p.ProfilePicture+`"`)) {
		t.Fatalf("profile page does not show the stored picture %q", p.ProfilePicture)
	}
	e.do("GET", p.ProfilePicture, "", nil).wantStatus(http.StatusOK)

	// An untouched file input (an empty file part) keeps the picture.
	b.follow(b.postMultipart("/profile/edit", map[string]string{"nickname": "pic2"}, "", []byte{})).wantBody("pic2", p.ProfilePicture)

	// The edit form offers removal only when there is a picture.
	b.get("/profile/edit").wantBody(`name="remove_picture"`, `src="`+p.ProfilePicture+`"`)
	res = b.postMultipart("/profile/edit", map[string]string{"nickname": "pic2", "remove_picture": "on"}, "", nil)
	b.follow(res).wantBody("Saved", `<span class="avatar big blank"`).wantNoBody(p.ProfilePicture)
	e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantBody(`"profile_picture":null`)
	e.do("GET", p.ProfilePicture, "", nil).wantStatus(http.StatusNotFound)
	b.get("/profile/edit").wantNoBody(`name="remove_picture"`)
}

// A picture over the upload cap brings the form back with the limit beside
// the picture field, not an error page.
func TestProfilePictureTooLarge(t *testing.T) {
	e := newTestEnvWith(t, Config{MaxUploadBytes: 64 << 10})
	u := e.register("big@example.com")
	b := e.browser()
	b.login(u.Email)
	big := bytes.Repeat([]byte{1}, 100<<10)
	b.postMultipart("/profile/edit", map[string]string{"nickname": "x"}, "big.png", big).
		wantStatus(http.StatusRequestEntityTooLarge).wantBody(`id="picture-err"`, "The picture is too large: at most 1 MB.", `value="big"`)
}
