package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"maru/store"
)

// userCardJSON is the short form of a user that lists show. ID is the
// user's id, the one /user/friend-profile/<id>/ takes.
type userCardJSON struct {
	ID             int64   `json:"id"`
	Email          string  `json:"email"`
	Nickname       string  `json:"nickname"`
	ProfilePicture *string `json:"profile_picture"`
	Status         string  `json:"status"`
}

// userCard is u as a list shows it; addedViewer says whether u has added
// the viewer, which decides whether a private user's status shows.
func (s *Server) userCard(r *http.Request, u *store.User, addedViewer bool) userCardJSON {
	return userCardJSON{
		ID:             u.ID,
		Email:          u.Email,
		Nickname:       u.Nickname,
		ProfilePicture: s.pictureURL(u),
		Status:         visibleStatus(u, addedViewer),
	}
}

// friendJSON is an entry of GET /user/friends/.
type friendJSON struct {
	userCardJSON
	Mutual bool `json:"mutual"`
}

// userMatchJSON is a result of GET /user/search-friends/.
type userMatchJSON struct {
	userCardJSON
	IsFriend bool `json:"is_friend"`
}

// visibleStatus is owner's status as someone shows it who may or may not
// see the whole profile (addedViewer: owner has added them). Email,
// nickname and picture identify a user everywhere, chat included; the
// status, like the contact number, belongs to the private part.
func visibleStatus(owner *store.User, addedViewer bool) string {
	if owner.IsPrivate && !addedViewer {
		return ""
	}
	return owner.Status
}

type friendRequest struct {
	Email *string `json:"email"`
}

// readFriendRequest decodes {"email"} and insists on the field.
func (s *Server) readFriendRequest(w http.ResponseWriter, r *http.Request) (string, error) {
	var req friendRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return "", err
	}
	if req.Email == nil {
		return "", store.Invalid("email", msgRequired)
	}
	return *req.Email, nil
}

func (s *Server) handleAddFriend(w http.ResponseWriter, r *http.Request) {
	email, err := s.readFriendRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	friend, err := s.store.AddFriend(r.Context(), currentUser(r).ID, email)
	switch {
	case errors.Is(err, store.ErrFriendSelf):
		err = errDetail(http.StatusBadRequest, "자기 자신은 친구로 추가할 수 없습니다.")
	case errors.Is(err, store.ErrFriendExists):
		err = errDetail(http.StatusBadRequest, store.NormalizeEmail(email)+"님은 이미 친구 목록에 있습니다.")
	case errors.Is(err, store.ErrFriendLimit):
		err = errDetail(http.StatusBadRequest, fmt.Sprintf("친구는 최대 %d명까지 추가할 수 있습니다.", store.MaxFriends))
	}
	if err != nil {
		s.writeError(w, r, err) // an unknown email is store.ErrNotFound: 404
		return
	}
	s.writeJSON(w, r, http.StatusCreated, map[string]string{"message": friend.Email + "님을 친구로 추가했습니다."})
}

func (s *Server) handleFriends(w http.ResponseWriter, r *http.Request) {
	friends, err := s.store.Friends(r.Context(), currentUser(r).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]friendJSON, 0, len(friends))
	for _, f := range friends {
		out = append(out, friendJSON{s.userCard(r, f.User, f.Mutual), f.Mutual})
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleFriendProfile(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	owner, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ok, err := s.canSeeProfile(r.Context(), currentUser(r), owner)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !ok {
		s.writeError(w, r, errForbidden)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.profile(r, owner))
}

func (s *Server) handleSearchFriends(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !q.Has("keyword") {
		s.writeError(w, r, store.Invalid("keyword", msgRequired))
		return
	}
	matches, err := s.store.SearchUsers(r.Context(), currentUser(r).ID, q.Get("keyword"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]userMatchJSON, 0, len(matches))
	for _, m := range matches {
		out = append(out, userMatchJSON{s.userCard(r, m.User, m.AddedMe), m.IsFriend})
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleDeleteFriend(w http.ResponseWriter, r *http.Request) {
	email, err := s.readFriendRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	err = s.store.RemoveFriend(r.Context(), currentUser(r).ID, email)
	email = strings.TrimSpace(email)
	if errors.Is(err, store.ErrNotFriend) {
		err = errDetail(http.StatusBadRequest, email+"님은 친구 목록에 없습니다.")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"message": email + "님을 친구 목록에서 삭제했습니다."})
}
