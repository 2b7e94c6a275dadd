package web

import (
	"net/http"
	"strings"
	"time"

	"maru/store"
)

var accountText = map[string]text{
	"login.title":         {"Log in", "로그인"},
	"login.email":         {"Email", "이메일"},
	"login.password":      {"Password", "비밀번호"},
	"login.submit":        {"Log in", "로그인"},
	"login.noaccount":     {"No account yet?", "아직 계정이 없나요?"},
	"login.register":      {"Sign up", "회원가입"},
	"register.title":      {"Sign up", "회원가입"},
	"register.nickname":   {"Nickname (optional)", "닉네임 (선택)"},
	"register.password2":  {"Password again", "비밀번호 확인"},
	"register.mismatch":   {"The two passwords differ.", "두 비밀번호가 다릅니다."},
	"register.hint":       {"At least 8 characters, not only digits.", "8자 이상, 숫자만으로는 안 됩니다."},
	"register.submit":     {"Create account", "계정 만들기"},
	"register.haveacct":   {"Already have an account?", "이미 계정이 있나요?"},
	"register.invite":     {"Invite code", "초대 코드"},
	"register.invitehint": {"Sign-up here is by invitation: ask an admin for a code.", "이곳은 초대를 받아야 가입할 수 있습니다. 관리자에게 코드를 받으세요."},
	"register.closed":     {"Sign-up is closed on this server. Ask its admin if you should have an account.", "이 서버는 가입을 받지 않습니다. 계정이 필요하면 관리자에게 문의하세요."},
	"msg:This invite code is not valid, used up or expired.": {"This invite code is not valid, used up or expired.", "초대 코드가 올바르지 않거나, 다 쓰였거나, 만료되었습니다."},
	"flash.welcome":   {"Welcome to maru!", "maru에 오신 것을 환영합니다!"},
	"flash.loggedin":  {"You are logged in.", "로그인했습니다."},
	"flash.loggedout": {"You are logged out.", "로그아웃했습니다."},
	"msg:Unable to log in with provided credentials.":            {"Wrong email or password.", "이메일 또는 비밀번호가 틀렸습니다."},
	"msg:A user is already registered with this e-mail address.": {"A user is already registered with this e-mail address.", "이미 가입된 이메일 주소입니다."},
	"msg:Enter a valid email address.":                           {"Enter a valid email address.", "올바른 이메일 주소를 입력하세요."},
}

// loginPage is the data of the login and registration pages.
type loginPage struct {
	Next   string
	Signup string // the sign-up mode, for the registration page
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"), "/")
	if currentUser(r) != nil {
		redirect(w, r, next)
		return
	}
	p := s.newPage(r, "login.title", &loginPage{Next: next})
	p.Form = &pageForm{lang: p.Lang}
	s.render(w, r, http.StatusOK, "login", p)
}

func (s *Server) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	next := localPath(r.PostForm.Get("next"), "/")
	p := s.newPage(r, "login.title", &loginPage{Next: next})
	f := newForm(r, p.Lang)
	p.Form = f
	email, password := strings.TrimSpace(f.Value("email")), f.Value("password")
	v := new(store.ValidationError)
	if email == "" {
		v.Add("email", msgRequired)
	}
	if password == "" {
		v.Add("password", msgRequired)
	}
	err := v.Err()
	if err == nil {
		var u *store.User
		u, err = s.checkLogin(r, email, password)
		if err == nil {
			if err := s.startSession(r, u); err != nil {
				s.writeError(w, r, err)
				return
			}
			s.flash(r, "flash.loggedin")
			redirect(w, r, next)
			return
		}
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	f.values.Del("password")
	s.render(w, r, http.StatusBadRequest, "login", p)
}

// startSession logs the browser in as u. The session token is renewed
// first, so a token planted before login (session fixation) is worth
// nothing after it.
func (s *Server) startSession(r *http.Request, u *store.User) error {
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	s.sessions.Put(r.Context(), sessionUserKey, u.ID)
	s.sessions.Put(r.Context(), sessionEpochKey, u.AuthEpoch)
	info(r).user = u
	return nil
}

func (s *Server) handleRegisterPage(w http.ResponseWriter, r *http.Request) {
	if currentUser(r) != nil {
		redirect(w, r, "/")
		return
	}
	p := s.newPage(r, "register.title", &loginPage{Next: localPath(r.URL.Query().Get("next"), "/"), Signup: s.cfg.Signup})
	p.Form = &pageForm{lang: p.Lang}
	p.Form.Set("invite", r.URL.Query().Get("invite")) // from an invite link
	s.render(w, r, http.StatusOK, "register", p)
}

func (s *Server) handleRegisterSubmit(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	next := localPath(r.PostForm.Get("next"), "/")
	p := s.newPage(r, "register.title", &loginPage{Next: next, Signup: s.cfg.Signup})
	f := newForm(r, p.Lang)
	p.Form = f
	nu := store.NewUser{Email: strings.TrimSpace(f.Value("email")), Password: f.Value("password"), Nickname: f.Value("nickname"), Invite: f.Value("invite")}
	var err error
	if f.Value("password") != f.Value("password2") {
		err = store.Invalid("password2", p.T("register.mismatch"))
	} else {
		var u *store.User
		u, err = s.createUser(r, nu)
		if err == nil {
			if err := s.startSession(r, u); err != nil {
				s.writeError(w, r, err)
				return
			}
			s.flash(r, "flash.welcome")
			redirect(w, r, next)
			return
		}
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	f.values.Del("password")
	f.values.Del("password2")
	s.render(w, r, http.StatusBadRequest, "register", p)
}

// handleLogoutPage ends the browser session and says so on the board.
func (s *Server) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	if currentUser(r) != nil {
		if err := s.endSession(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.flash(r, "flash.loggedout")
	}
	redirect(w, r, "/")
}

// handleLanguage remembers the language picked with the switch for a year
// and goes back to the page it was picked on.
func (s *Server) handleLanguage(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	lang := r.PostForm.Get("lang")
	if !knownLang(lang) {
		s.writeError(w, r, store.Invalid("lang", "Choose en or ko."))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: langCookie, Value: lang, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.base != nil && s.base.Scheme == "https",
	})
	redirect(w, r, localPath(r.PostForm.Get("next"), "/"))
}
