package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"maru/store"
)

// profileJSON is the profile object of DESIGN.md. The profile and its user
// are one to one, so "id" and "user" carry the same number.
type profileJSON struct {
	ID             int64   `json:"id"`
	User           int64   `json:"user"`
	Email          string  `json:"email"`
	Nickname       string  `json:"nickname"`
	ProfilePicture *string `json:"profile_picture"`
	ContactNumber  string  `json:"contact_number"`
	Status         string  `json:"status"`
	IsPrivate      bool    `json:"is_private"`
}

func (s *Server) profile(r *http.Request, u *store.User) profileJSON {
	return profileJSON{
		ID:             u.ID,
		User:           u.ID,
		Email:          u.Email,
		Nickname:       u.Nickname,
		ProfilePicture: s.pictureURL(u),
		ContactNumber:  u.ContactNumber,
		Status:         u.Status,
		IsPrivate:      u.IsPrivate,
	}
}

// picturePath is where u's picture is served, or "" when u has none. Each
// upload gets a new random key, so the URL of a picture never changes its
// bytes, and nobody can guess it.
func picturePath(u *store.User) string {
	if u.PictureKey == "" {
		return ""
	}
	return "/media/pictures/" + u.PictureKey
}

// pictureURL is the URL of u's picture, or nil: absolute under BaseURL, else
// a site path. It takes no request on purpose, as the URL also goes to
// other users (lists, chat frames).
func (s *Server) pictureURL(u *store.User) *string {
	p := picturePath(u)
	if p == "" {
		return nil
	}
	abs := s.absURL(p)
	return &abs
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, s.profile(r, currentUser(r)))
}

// profileEditRequest is the JSON form of a profile edit. ProfilePicture is
// raw so that an explicit null (remove the picture) differs from absence.
type profileEditRequest struct {
	Nickname       *string         `json:"nickname"`
	ContactNumber  *string         `json:"contact_number"`
	Status         *string         `json:"status"`
	IsPrivate      *bool           `json:"is_private"`
	ProfilePicture json.RawMessage `json:"profile_picture"`
}

const msgNotAFile = "The submitted data was not a file. Check the encoding type on the form."

func (s *Server) handleProfileEdit(w http.ResponseWriter, r *http.Request) {
	up, err := s.readProfileEdit(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.store.UpdateProfile(r.Context(), currentUser(r).ID, up)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	info(r).user = u
	s.writeJSON(w, r, http.StatusOK, s.profile(r, u))
}

// readProfileEdit reads an edit from a JSON body or from a multipart form,
// the only way to send a picture.
func (s *Server) readProfileEdit(w http.ResponseWriter, r *http.Request) (store.ProfileUpdate, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		return s.readProfileForm(w, r)
	}
	var req profileEditRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return store.ProfileUpdate{}, err
	}
	up := store.ProfileUpdate{
		Nickname:      req.Nickname,
		ContactNumber: req.ContactNumber,
		Status:        req.Status,
		IsPrivate:     req.IsPrivate,
	}
	switch raw := strings.TrimSpace(string(req.ProfilePicture)); raw {
	case "":
	case "null", `""`:
		up.RemovePicture = true
	default:
		return up, store.Invalid("profile_picture", msgNotAFile)
	}
	return up, nil
}

// maxFormMemory is what a multipart form may hold in memory; the body cap
// (MaxUploadBytes) bounds the whole request anyway.
const maxFormMemory = 1 << 20

func (s *Server) readProfileForm(w http.ResponseWriter, r *http.Request) (store.ProfileUpdate, error) {
	var up store.ProfileUpdate
	bodyDeadline(w, 4*s.cfg.BodyTimeout) // pictures are larger, and come from phones
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	if err := r.ParseMultipartForm(maxFormMemory); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return up, err
		}
		return up, errDetail(http.StatusBadRequest, "Multipart form parse error.")
	}
	defer r.MultipartForm.RemoveAll()
	form := r.MultipartForm.Value
	text := func(name string) *string {
		if vs, ok := form[name]; ok && len(vs) > 0 {
			return &vs[0]
		}
		return nil
	}
	up.Nickname = text("nickname")
	up.ContactNumber = text("contact_number")
	up.Status = text("status")
	if p := text("is_private"); p != nil {
		b, ok := parseFormBool(*p)
		if !ok {
			return up, store.Invalid("is_private", "Must be a valid boolean.")
		}
		up.IsPrivate = &b
	}
	if p := text("profile_picture"); p != nil {
		if *p != "" {
			return up, store.Invalid("profile_picture", msgNotAFile)
		}
		up.RemovePicture = true // an empty form value clears, as DRF does
	}
	if files := r.MultipartForm.File["profile_picture"]; len(files) > 0 {
		f, err := files[0].Open()
		if err != nil {
			return up, store.Invalid("profile_picture", msgNotAFile)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return up, store.Invalid("profile_picture", msgNotAFile)
		}
		pic, err := processPicture(data, s.pictureSlots)
		if err != nil {
			return up, err
		}
		up.Picture = pic
		up.RemovePicture = false
	}
	return up, nil
}

func parseFormBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "on", "yes":
		return true, true
	case "false", "0", "off", "no", "":
		return false, true
	}
	return false, false
}

// handlePicture serves a stored picture. Its URL names one immutable
// picture, so it may be cached for good.
//
// Pictures are named by a random key (32 hex digits); anything else,
// including the numeric ids older versions served them under, is a 404.
func (s *Server) handlePicture(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		s.writeError(w, r, errNotFound)
		return
	}
	p, err := s.store.PictureByKey(r.Context(), key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", p.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+p.Key+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(p.Data))
}
