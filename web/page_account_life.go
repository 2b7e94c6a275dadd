package web

import (
	"net/http"

	"maru/store"
)

var accountLifeText = map[string]text{
	"password.title":     {"Change password", "비밀번호 변경"},
	"password.old":       {"Current password", "현재 비밀번호"},
	"password.new":       {"New password", "새 비밀번호"},
	"password.new2":      {"New password again", "새 비밀번호 확인"},
	"password.submit":    {"Change password", "비밀번호 변경"},
	"password.note":      {"Every other device and browser logged in as you will be logged out.", "이 브라우저를 뺀 다른 모든 기기와 브라우저에서 로그아웃됩니다."},
	"flash.password":     {"Password changed. Other devices are logged out.", "비밀번호를 바꿨습니다. 다른 기기는 로그아웃되었습니다."},
	"delete.title":       {"Delete account", "계정 삭제"},
	"delete.warning":     {"This cannot be undone. Your profile, picture and friend list are deleted, and you are logged out everywhere. Your posts and chat messages stay, shown as by \"deleted user\".", "되돌릴 수 없습니다. 프로필, 사진, 친구 목록이 지워지고 모든 곳에서 로그아웃됩니다. 쓴 글과 채팅 메시지는 \"탈퇴한 사용자\"의 것으로 남습니다."},
	"delete.export":      {"You may want to download your data first.", "먼저 내 데이터를 내려받아 두세요."},
	"delete.password":    {"Your password, to confirm", "확인을 위해 비밀번호를 입력하세요"},
	"delete.submit":      {"Delete my account", "계정 삭제"},
	"flash.deleted":      {"Your account is deleted. Goodbye!", "계정을 삭제했습니다. 안녕히 가세요!"},
	"account.export":     {"Download my data", "내 데이터 내려받기"},
	"account.title":      {"Account", "계정"},
	"reset.title":        {"Set a new password", "새 비밀번호 설정"},
	"reset.for":          {"For %s", "%s 계정"},
	"reset.submit":       {"Set password", "비밀번호 설정"},
	"flash.reset":        {"Password set. Log in with it now.", "비밀번호를 설정했습니다. 이제 로그인하세요."},
	"error.resetinvalid": {"This password reset link is invalid, used or expired. Ask an admin for a new one.", "비밀번호 재설정 링크가 올바르지 않거나, 이미 쓰였거나, 만료되었습니다. 관리자에게 새 링크를 받으세요."},
	"msg:Your old password was entered incorrectly. Please enter it again.": {"Your current password is not right.", "현재 비밀번호가 틀렸습니다."},
	"msg:The password is not correct.":                                      {"The password is not correct.", "비밀번호가 틀렸습니다."},
	"msg:You are the last admin: make another user admin first.":            {"You are the last admin: make another user admin first.", "마지막 관리자입니다. 먼저 다른 사용자를 관리자로 지정하세요."},
}

// The two new-password fields must agree; the store checks the rest.
func samePasswords(f *pageForm, field, again, lang string) error {
	if f.Value(field) != f.Value(again) {
		return store.Invalid(again, translate(lang, "register.mismatch"))
	}
	return nil
}

func (s *Server) handlePasswordPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "password.title", nil)
	p.Form = &pageForm{lang: p.Lang}
	s.render(w, r, http.StatusOK, "password", p)
}

func (s *Server) handlePasswordSubmit(w http.ResponseWriter, r *http.Request) {
	p, f, ok := s.formPage(w, r, "password.title", nil)
	if !ok {
		return
	}
	err := samePasswords(f, "new_password", "new_password2", p.Lang)
	if err == nil {
		_, err = s.changePassword(r, f.Value("old_password"), f.Value("new_password"), "")
		if err == nil {
			s.flash(r, "flash.password")
			redirect(w, r, "/profile")
			return
		}
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	f.values = nil // passwords are never sent back
	s.render(w, r, http.StatusBadRequest, "password", p)
}

func (s *Server) handleDeleteAccountPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "delete.title", nil)
	p.Form = &pageForm{lang: p.Lang}
	s.render(w, r, http.StatusOK, "delete_account", p)
}

func (s *Server) handleDeleteAccountSubmit(w http.ResponseWriter, r *http.Request) {
	p, f, ok := s.formPage(w, r, "delete.title", nil)
	if !ok {
		return
	}
	err := s.deleteAccount(r, f.Value("password"))
	if err == nil {
		s.flash(r, "flash.deleted") // in a new, anonymous session
		redirect(w, r, "/")
		return
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	f.values = nil
	s.render(w, r, http.StatusBadRequest, "delete_account", p)
}

// resetPage is the data of the password reset page.
type resetPage struct {
	Email string
}

// resetUser finds who a reset link is for, or answers the page that says
// the link no longer works.
func (s *Server) resetUser(w http.ResponseWriter, r *http.Request) *store.User {
	u, err := s.store.PasswordResetUser(r.Context(), r.PathValue("token"))
	if err != nil {
		if p, ok := problemOf(err); ok && p.status == http.StatusBadRequest {
			err = &apiError{status: http.StatusNotFound, body: detail(msgNotFound), msgKey: "error.resetinvalid"}
		}
		s.writeError(w, r, err)
		return nil
	}
	return u
}

func (s *Server) handleResetPage(w http.ResponseWriter, r *http.Request) {
	u := s.resetUser(w, r)
	if u == nil {
		return
	}
	p := s.newPage(r, "reset.title", &resetPage{Email: u.Email})
	p.Form = &pageForm{lang: p.Lang}
	s.render(w, r, http.StatusOK, "reset", p)
}

func (s *Server) handleResetSubmit(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	u := s.resetUser(w, r)
	if u == nil {
		return
	}
	p := s.newPage(r, "reset.title", &resetPage{Email: u.Email})
	f := newForm(r, p.Lang)
	p.Form = f
	err := samePasswords(f, "password", "password2", p.Lang)
	if err == nil {
		if _, err = s.store.ResetPassword(r.Context(), r.PathValue("token"), f.Value("password")); err == nil {
			s.CloseUserSockets(u.ID)
			s.flash(r, "flash.reset")
			redirect(w, r, "/login")
			return
		}
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	f.values = nil
	s.render(w, r, http.StatusBadRequest, "reset", p)
}
