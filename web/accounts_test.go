package web

import (
	"net/http"
	"testing"
)

func TestRegisterLoginProfile(t *testing.T) {
	e := newTestEnv(t)
	u := e.register("mina@example.com")
	e.do("GET", "/mysite/user/v1/profile/", u.Access, nil).wantStatus(http.StatusOK).
		wantBody(`"email":"mina@example.com"`, `"nickname":"mina"`, `"profile_picture":null`)
}
