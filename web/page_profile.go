package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"maru/store"
)

var profileText = map[string]text{
	"profile.title":          {"My profile", "내 프로필"},
	"profile.edit":           {"Edit profile", "프로필 수정"},
	"profile.email":          {"Email", "이메일"},
	"profile.status":         {"Status", "상태 메시지"},
	"profile.contact":        {"Contact number", "연락처"},
	"profile.visibility":     {"Visibility", "공개 범위"},
	"profile.private":        {"Private: only people I have added see my whole profile", "비공개: 내가 추가한 사람만 전체 프로필을 볼 수 있음"},
	"profile.public":         {"Public: every member sees my profile", "공개: 모든 회원이 프로필을 볼 수 있음"},
	"profile.nostatus":       {"No status yet.", "상태 메시지가 없습니다."},
	"profile.none":           {"Not given", "없음"},
	"profile.joined":         {"Joined", "가입"},
	"profile.posts":          {"Posts (%d)", "쓴 글 (%d)"},
	"profile.noposts":        {"No posts yet.", "아직 쓴 글이 없습니다."},
	"profile.picture":        {"Profile picture", "프로필 사진"},
	"profile.picture.hint":   {"JPEG, PNG, GIF or WebP. Scaled to 512 px; location data is removed.", "JPEG, PNG, GIF, WebP. 512px로 줄이고 위치 정보는 지웁니다."},
	"profile.picture.remove": {"Remove my picture", "사진 지우기"},
	"profile.nickname":       {"Nickname", "닉네임"},
	"profile.status.hint":    {"A line about you or what you are up to.", "자신이나 요즘 하는 일을 한 줄로."},
	"profile.contact.hint":   {"Digits, spaces and + - ( ). Shown only on your whole profile.", "숫자, 공백, + - ( ) 만. 전체 프로필에서만 보입니다."},
	"profile.private.label":  {"Private profile", "비공개 프로필"},
	"profile.private.hint":   {"Others then see only your nickname, email and picture, unless you have added them.", "내가 추가하지 않은 사람에게는 닉네임, 이메일, 사진만 보입니다."},
	"profile.save":           {"Save", "저장"},
	"profile.cancel":         {"Cancel", "취소"},
	"profile.toolarge":       {"The picture is too large: at most %d MB.", "사진이 너무 큽니다. 최대 %d MB까지 올릴 수 있습니다."},
	"flash.saved":            {"Saved", "저장했습니다"},

	"msg:Enter a valid phone number: digits, spaces and + - ( ) only.": {"Enter a valid phone number: digits, spaces and + - ( ) only.", "올바른 전화번호를 입력하세요: 숫자, 공백, + - ( ) 만 쓸 수 있습니다."},
	"msg:" + msgNotAnImage: {"Upload a valid image. The file was not an image or was damaged.", "올바른 이미지를 올리세요. 이미지가 아니거나 손상된 파일입니다."},
	"msg:Unsupported image format: use JPEG, PNG, GIF or WebP.": {"Unsupported image format: use JPEG, PNG, GIF or WebP.", "지원하지 않는 형식입니다. JPEG, PNG, GIF, WebP를 쓰세요."},
	"msg:Image dimensions are too large.":                       {"The image is too large in pixels.", "이미지의 가로세로 크기가 너무 큽니다."},
	"msg:" + msgNotAFile:                                        {"The submitted data was not a file.", "파일이 아닙니다."},
}

// profilePage is the data of a profile, mine or someone else's.
type profilePage struct {
	Owner       *store.User
	Mine        bool
	Status      string // what the viewer may see of it
	ShowContact bool
	Posts       []*store.Post
	PostCount   int
	// Seen from the viewer, on another user's profile.
	OnMyList bool // the viewer has added the owner
	AddedMe  bool // the owner has added the viewer
}

// profileRecentPosts is how many of a user's newest posts their profile lists.
const profileRecentPosts = 5

func (s *Server) handleProfilePage(w http.ResponseWriter, r *http.Request) {
	me := currentUser(r)
	data := &profilePage{Owner: me, Mine: true, Status: me.Status, ShowContact: true}
	if err := s.loadProfilePosts(r, data); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "profile", s.newPage(r, "profile.title", data))
}

func (s *Server) loadProfilePosts(r *http.Request, data *profilePage) error {
	var err error
	data.Posts, data.PostCount, err = s.store.PostsByAuthor(r.Context(), data.Owner.ID, profileRecentPosts)
	return err
}

func (s *Server) handleProfileEditPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "profile.edit", currentUser(r))
	p.Form = profileForm(currentUser(r), p.Lang)
	s.render(w, r, http.StatusOK, "profile_edit", p)
}

// profileForm is the edit form filled in from the stored profile.
func profileForm(u *store.User, lang string) *pageForm {
	f := &pageForm{lang: lang}
	f.Set("nickname", u.Nickname)
	f.Set("status", u.Status)
	f.Set("contact_number", u.ContactNumber)
	if u.IsPrivate {
		f.Set("is_private", "on")
	}
	return f
}

// handleProfileEditSubmit saves the edit form: the text fields, the
// private flag (an unticked box sends nothing, so absent means public),
// and a new picture or its removal. Like the API, all or nothing.
func (s *Server) handleProfileEditSubmit(w http.ResponseWriter, r *http.Request) {
	me := currentUser(r)
	if err := s.parseForm(w, r); err != nil {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			s.writeError(w, r, err)
			return
		}
		// Too large a picture is the likely cause; the form, unread, comes
		// back as stored, with the limit beside the picture field.
		p := s.newPage(r, "profile.edit", me)
		p.Form = profileForm(me, p.Lang)
		p.Form.errors = map[string][]string{"profile_picture": {p.T("profile.toolarge", max(1, s.cfg.MaxUploadBytes>>20))}}
		s.render(w, r, http.StatusRequestEntityTooLarge, "profile_edit", p)
		return
	}
	p := s.newPage(r, "profile.edit", me)
	f := newForm(r, p.Lang)
	p.Form = f
	text := func(field string) *string { // nil, unchanged, when not sent
		if vs := r.PostForm[field]; len(vs) > 0 {
			return &vs[0]
		}
		return nil
	}
	private := f.Value("is_private") != ""
	up := store.ProfileUpdate{
		Nickname:      text("nickname"),
		Status:        text("status"),
		ContactNumber: text("contact_number"),
		IsPrivate:     &private,
		RemovePicture: f.Value("remove_picture") != "",
	}
	pic, err := s.formPicture(r)
	if err == nil {
		if pic != nil {
			up.Picture, up.RemovePicture = pic, false
		}
		var u *store.User
		if u, err = s.store.UpdateProfile(r.Context(), me.ID, up); err == nil {
			info(r).user = u
			s.flash(r, "flash.saved")
			redirect(w, r, "/profile")
			return
		}
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, "profile_edit", p)
}

// formPicture is the picture of the edit form, checked and re-encoded as
// the API does it, or nil when none was chosen: a browser sends an empty
// file part for an untouched file input.
func (s *Server) formPicture(r *http.Request) (*store.Picture, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	files := r.MultipartForm.File["profile_picture"]
	if len(files) == 0 || files[0].Size == 0 {
		return nil, nil
	}
	f, err := files[0].Open()
	if err != nil {
		return nil, store.Invalid("profile_picture", msgNotAFile)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read uploaded picture: %w", err)
	}
	return processPicture(data, s.pictureSlots)
}
