package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"maru/store"
)

// The life of an account after sign-up: changing the password, taking
// one's data along, and leaving.

type passwordChangeRequest struct {
	OldPassword *string `json:"old_password"`
	NewPassword *string `json:"new_password"`
	// Refresh, when given, is the caller's own refresh token, which stays
	// valid; every other one of the user is revoked.
	Refresh *string `json:"refresh"`
}

func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	var req passwordChangeRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	v := new(store.ValidationError)
	required(v, map[string]*string{"old_password": req.OldPassword, "new_password": req.NewPassword})
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	keep := ""
	if req.Refresh != nil && *req.Refresh != "" {
		c, ok := s.tokens.parse(*req.Refresh, tokenRefresh)
		if !ok || c.UserID != currentUser(r).ID {
			s.writeError(w, r, errRefreshInvalid)
			return
		}
		keep = c.ID
	}
	u, err := s.changePassword(r, *req.OldPassword, *req.NewPassword, keep)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Access tokens issued before the change stop working at once, the
	// caller's too: it gets a fresh one to carry on with.
	access, err := s.tokens.issueAccess(u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"message": "비밀번호가 변경되었습니다.", "access": access})
}

// changePassword changes the request's user's password, for the API and
// the page alike. Every other login of theirs ends: refresh tokens but
// keep, access tokens and browser sessions issued before (the auth epoch
// moves on) and chat sockets. The browser session of this request, if any, carries on under
// a new token.
func (s *Server) changePassword(r *http.Request, old, new, keep string) (*store.User, error) {
	u, err := s.store.ChangePassword(r.Context(), currentUser(r).ID, old, new, keep)
	if err != nil {
		return nil, err
	}
	s.CloseUserSockets(u.ID)
	if r.Header.Get("Authorization") == "" && s.sessionUserID(r.Context()) == u.ID {
		return u, s.startSession(r, u)
	}
	return u, nil
}

type deleteAccountRequest struct {
	Password *string `json:"password"`
}

// handleDeleteAccount closes the caller's account for good, after the
// password; posts and messages stay, under "deleted user".
func (s *Server) handleDeleteAccount(w http.ResponseWriter, r *http.Request) {
	var req deleteAccountRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Password == nil {
		s.writeError(w, r, store.Invalid("password", msgRequired))
		return
	}
	if err := s.deleteAccount(r, *req.Password); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteAccount closes the request's user's account, for the API and the
// page alike, and ends every login of theirs at once.
func (s *Server) deleteAccount(r *http.Request, password string) error {
	u := currentUser(r)
	if err := s.store.DeleteAccount(r.Context(), u.ID, password); err != nil {
		return err
	}
	s.CloseUserSockets(u.ID)
	if r.Header.Get("Authorization") == "" && s.sessionUserID(r.Context()) == u.ID {
		if err := s.sessions.Destroy(r.Context()); err != nil {
			return err
		}
	}
	info(r).user = nil
	return nil
}

// exportProfile is the account part of an export: the profile and what
// only its owner sees.
type exportProfile struct {
	profileJSON
	IsAdmin   bool   `json:"is_admin"`
	CreatedAt string `json:"created_at"`
}

type exportPicture struct {
	ContentType string `json:"content_type"`
	Data        string `json:"data_base64"`
}

type exportMessage struct {
	ID        int64  `json:"id"`
	Room      int64  `json:"room"`
	Message   string `json:"message"`
	CreatedAt string `json:"created_at"`
}

// handleExport answers everything maru holds about the caller as one JSON
// file: profile, picture, friends, posts and chat messages. Posts and
// messages are written one at a time as they are read, so an export of
// years of chat holds one message in memory, not all of them.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(r)
	friends, err := s.store.Friends(ctx, u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var picture *exportPicture
	if u.PictureID != 0 {
		p, err := s.store.PictureByID(ctx, u.PictureID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.writeError(w, r, err)
			return
		}
		if p != nil {
			picture = &exportPicture{ContentType: p.ContentType, Data: base64.StdEncoding.EncodeToString(p.Data)}
		}
	}
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h.Set("Content-Disposition", `attachment; filename="maru-export-`+strconv.FormatInt(u.ID, 10)+`.json"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)

	// From here on the status is sent: a failure can only cut the file
	// short, which leaves it invalid JSON, so the reader knows.
	enc := json.NewEncoder(w)
	part := func(name string, v any) error {
		if _, err := w.Write([]byte(name)); err != nil {
			return err
		}
		return enc.Encode(v)
	}
	cards := make([]friendJSON, 0, len(friends))
	for _, f := range friends {
		cards = append(cards, friendJSON{s.userCard(r, f.User, f.Mutual), f.Mutual})
	}
	err = errors.Join(
		part(`{"exported_at":`, drfTime(s.store.Now())),
		part(`,"profile":`, exportProfile{s.profile(r, u), u.IsAdmin, drfTime(u.CreatedAt)}),
		part(`,"picture":`, picture),
		part(`,"friends":`, cards),
	)
	if err == nil {
		err = s.exportList(w, `,"posts":[`, func(emit func(any) error) error {
			return s.store.EachPostBy(ctx, u.ID, func(p *store.Post) error { return emit(toPostJSON(p)) })
		})
	}
	if err == nil {
		err = s.exportList(w, `,"chat_messages":[`, func(emit func(any) error) error {
			return s.store.EachMessageBy(ctx, u.ID, func(m *store.Message) error {
				return emit(exportMessage{ID: m.ID, Room: m.RoomID, Message: m.Body, CreatedAt: drfTime(m.CreatedAt)})
			})
		})
	}
	if err == nil {
		_, err = w.Write([]byte("}\n"))
	}
	if err != nil {
		s.log.Warn("export cut short", "user_id", u.ID, "err", err)
		panic(http.ErrAbortHandler) // close the connection: the file is incomplete
	}
}

// exportList writes a JSON array, element by element, after head.
func (s *Server) exportList(w http.ResponseWriter, head string, each func(emit func(any) error) error) error {
	if _, err := w.Write([]byte(head)); err != nil {
		return err
	}
	first := true
	err := each(func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if !first {
			b = append([]byte{','}, b...)
		}
		first = false
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.Write([]byte("]"))
	return err
}
