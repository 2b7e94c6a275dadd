package web

import "net/http"

var userText = map[string]text{
	"user.onlist":     {"On your list", "내 친구 목록에 있음"},
	"user.mutual":     {"Mutual", "서로 친구"},
	"user.addedme":    {"Added you", "나를 추가함"},
	"user.add":        {"Add friend", "친구 추가"},
	"user.remove":     {"Remove friend", "친구 삭제"},
	"user.admin":      {"Admin", "관리자"},
	"user.privatetag": {"Private", "비공개"},
}

// handleUserPage shows another user's profile under the API's rules: a
// private profile only to those its owner has added (canSeeProfile); the
// rest get the 403 page. My own id shows my own profile.
func (s *Server) handleUserPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	me := currentUser(r)
	if id == me.ID {
		redirect(w, r, "/profile")
		return
	}
	owner, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ok, err := s.canSeeProfile(r.Context(), me, owner)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !ok {
		s.writeError(w, r, errForbidden)
		return
	}
	data := &profilePage{Owner: owner, ShowContact: true}
	if data.OnMyList, err = s.store.HasAdded(r.Context(), me.ID, owner.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	if data.AddedMe, err = s.store.HasAdded(r.Context(), owner.ID, me.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	data.Status = visibleStatus(owner, data.AddedMe)
	if err := s.loadProfilePosts(r, data); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.newPage(r, "profile.title", data)
	p.Title = owner.Nickname
	s.render(w, r, http.StatusOK, "profile", p)
}
