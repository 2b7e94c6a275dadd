package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"maru/store"
)

var friendText = map[string]text{
	"friends.title":        {"Friends", "친구"},
	"friends.mine":         {"My list (%d)", "내 친구 목록 (%d)"},
	"friends.empty":        {"Nobody on your list yet. Find people by their email below.", "아직 친구가 없습니다. 아래에서 이메일로 찾아보세요."},
	"friends.search":       {"Find people", "사람 찾기"},
	"friends.search.label": {"Email, or a part of it", "이메일 또는 그 일부"},
	"friends.search.hint":  {"Private accounts are found only by their full address.", "비공개 계정은 이메일 주소 전체로만 찾을 수 있습니다."},
	"friends.search.go":    {"Search", "검색"},
	"friends.results":      {"Results for “%s”", "“%s” 검색 결과"},
	"friends.noresults":    {"Nobody found.", "찾은 사람이 없습니다."},
	"friends.more":         {"Only the first %d are shown: type more of the address.", "처음 %d명만 보입니다. 주소를 더 입력하세요."},
	"flash.friend.added":   {"%s added", "%s님을 친구로 추가했습니다"},
	"flash.friend.removed": {"%s removed", "%s님을 친구 목록에서 삭제했습니다"},
	"friends.err.self":     {"You cannot add yourself.", "자기 자신은 친구로 추가할 수 없습니다."},
	"friends.err.exists":   {"%s is already on your list.", "%s님은 이미 친구 목록에 있습니다."},
	"friends.err.unknown":  {"No account has the address %s.", "%s 주소로 가입한 계정이 없습니다."},
	"friends.err.full":     {"Your list is full: at most %d friends.", "친구는 최대 %d명까지 추가할 수 있습니다."},
	"friends.err.notfound": {"%s is not on your list.", "%s님은 친구 목록에 없습니다."},
}

// friendRow is one person on the friends page, as the viewer may see them.
type friendRow struct {
	User     *store.User
	Status   string // blank when private and they have not added the viewer
	OnMyList bool
	AddedMe  bool   // on my list too: mutual
	Next     string // where its add or remove button comes back to
	lang     string
}

// T is the catalog entry key in the viewer's language, for the row's own
// template.
func (f friendRow) T(key string, args ...any) string { return translate(f.lang, key, args...) }

// friendsPage is the data of /friends: my list, and a search when asked.
type friendsPage struct {
	Friends  []friendRow
	Query    string
	Searched bool
	Results  []friendRow
	More     bool // the search hit its cap
	Max      int
}

func (s *Server) handleFriendsPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "friends.title", nil)
	p.Form = &pageForm{lang: p.Lang}
	status := http.StatusOK
	data, err := s.friendsData(r, r.URL.Query().Get("q"))
	if p.Form.fail(err) {
		status, err = http.StatusBadRequest, nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p.Data = data
	s.render(w, r, status, "friends", p)
}

// friendsData loads my list and, when q is not blank, the users it finds
// under the API's rules (never myself; private users only by their full
// address). A bad q is a validation error on "q", with the list loaded.
func (s *Server) friendsData(r *http.Request, q string) (*friendsPage, error) {
	me := currentUser(r)
	friends, err := s.store.Friends(r.Context(), me.ID)
	if err != nil {
		return nil, err
	}
	data := &friendsPage{Query: strings.TrimSpace(q), Max: store.MaxSearchResults}
	lang, next := pageLang(r), "/friends"
	if data.Query != "" {
		next += "?q=" + url.QueryEscape(data.Query)
	}
	for _, f := range friends {
		data.Friends = append(data.Friends, friendRow{User: f.User, Status: visibleStatus(f.User, f.Mutual),
			OnMyList: true, AddedMe: f.Mutual, Next: next, lang: lang})
	}
	if data.Query == "" {
		return data, nil
	}
	matches, err := s.store.SearchUsers(r.Context(), me.ID, data.Query)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return data, store.Invalid("q", ve.Fields["keyword"][0])
	}
	if err != nil {
		return nil, err
	}
	data.Searched, data.More = true, len(matches) >= store.MaxSearchResults
	for _, m := range matches {
		data.Results = append(data.Results, friendRow{User: m.User, Status: visibleStatus(m.User, m.AddedMe),
			OnMyList: m.IsFriend, AddedMe: m.AddedMe, Next: next, lang: lang})
	}
	return data, nil
}

func (s *Server) handleFriendAdd(w http.ResponseWriter, r *http.Request) {
	s.changeFriend(w, r, true)
}

func (s *Server) handleFriendRemove(w http.ResponseWriter, r *http.Request) {
	s.changeFriend(w, r, false)
}

// changeFriend adds or removes the friend the form names, and goes back to
// the page the form was on (next) with a notice. A refusal is shown on the
// friends page, beside its search.
func (s *Server) changeFriend(w http.ResponseWriter, r *http.Request, add bool) {
	if err := s.parseForm(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	me := currentUser(r)
	p := s.newPage(r, "friends.title", nil)
	f := newForm(r, p.Lang)
	p.Form = f
	email := store.NormalizeEmail(f.Value("email"))
	var err error
	if add {
		var friend *store.User
		if friend, err = s.store.AddFriend(r.Context(), me.ID, email); err == nil {
			s.flashWith(r, "flash.friend.added", friend.Email)
		}
	} else if err = s.store.RemoveFriend(r.Context(), me.ID, email); err == nil {
		s.flashWith(r, "flash.friend.removed", email)
	}
	if err == nil {
		redirect(w, r, localPath(f.Value("next"), "/friends"))
		return
	}
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, store.ErrFriendSelf):
		err = store.Invalid("email", p.T("friends.err.self"))
	case errors.Is(err, store.ErrFriendExists):
		err = store.Invalid("email", p.T("friends.err.exists", email))
	case errors.Is(err, store.ErrFriendLimit):
		err = store.Invalid("email", p.T("friends.err.full", store.MaxFriends))
	case errors.Is(err, store.ErrNotFriend):
		err = store.Invalid("email", p.T("friends.err.notfound", email))
	case errors.Is(err, store.ErrNotFound):
		err, status = store.Invalid("email", p.T("friends.err.unknown", email)), http.StatusNotFound
	}
	if !f.fail(err) {
		s.writeError(w, r, err)
		return
	}
	// The search the button was pressed on comes back with the refusal.
	var q string
	if u, err := url.Parse(f.Value("next")); err == nil && u.Path == "/friends" {
		q = u.Query().Get("q")
	}
	data, err := s.friendsData(r, q)
	if data == nil { // the list could not be read; a bad q only loses the search
		s.writeError(w, r, err)
		return
	}
	p.Data = data
	// The page shown is the friends page: the language switch and any
	// link built from Path must lead there, not to this POST's address.
	p.Path = "/friends"
	if data.Query != "" {
		p.Path += "?q=" + url.QueryEscape(data.Query)
	}
	s.render(w, r, status, "friends", p)
}
