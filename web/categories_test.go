package web

import (
	"fmt"
	"net/http"
	"testing"
)

func TestCategories(t *testing.T) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	user := e.register("user@example.com")

	e.do("GET", "/api/post/categories", "", nil).wantStatus(200).wantBody("[]")
	var free struct{ ID int64 }
	e.do("POST", "/api/post/categories/create", admin.Access, map[string]string{"name": " 자유 "}).
		wantStatus(http.StatusCreated).wantBody(`"name":"자유"`).decode(&free)
	e.do("POST", "/api/post/categories/create", admin.Access, map[string]string{"name": "News"}).wantStatus(201)

	one := fmt.Sprint("/api/post/categories/", free.ID)
	cases := []struct {
		name, method, path, token string
		body                      any
		want                      int
		part                      string
	}{
		{"anonymous create", "POST", "/api/post/categories/create", "", map[string]string{"name": "x"}, 401, msgNotAuthenticated},
		{"user create", "POST", "/api/post/categories/create", user.Access, map[string]string{"name": "x"}, 403, msgForbidden},
		{"user rename", "PUT", one, user.Access, map[string]string{"name": "x"}, 403, msgForbidden},
		{"user delete", "DELETE", one, user.Access, nil, 403, msgForbidden},
		{"duplicate", "POST", "/api/post/categories/create", admin.Access, map[string]string{"name": "news"}, 400, `"name":["category with this name already exists."]`},
		{"rename to taken", "PATCH", one, admin.Access, map[string]string{"name": "NEWS"}, 400, `already exists`},
		{"no name", "POST", "/api/post/categories/create", admin.Access, map[string]string{}, 400, `"name":["This field is required."]`},
		{"blank name", "POST", "/api/post/categories/create", admin.Access, map[string]string{"name": " "}, 400, `"name":["This field may not be blank."]`},
		{"long name", "POST", "/api/post/categories/create", admin.Access, map[string]string{"name": fmt.Sprintf("%051d", 0)}, 400, `no more than 50 characters`},
		{"rename missing", "PUT", "/api/post/categories/999", admin.Access, map[string]string{"name": "x"}, 404, msgNotFound},
		{"delete missing", "DELETE", "/api/post/categories/999", admin.Access, nil, 404, msgNotFound},
		{"get one", "GET", one, admin.Access, nil, 405, `not allowed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.do(c.method, c.path, c.token, c.body).wantStatus(c.want).wantBody(c.part)
		})
	}
	e.t = t
	e.do("PUT", one, admin.Access, map[string]string{"name": "자유게시판"}).wantStatus(200).wantBody(`"name":"자유게시판"`)
	e.do("POST", "/api/post/categories/", "", nil).wantStatus(200).
		wantBody(fmt.Sprintf(`[{"id":%d,"name":"자유게시판"},{"id":%d,"name":"News"}]`, free.ID, free.ID+1))

	p := e.writePost(user, map[string]any{"title": "t", "content": "c", "category": free.ID})
	if p.Category == nil || *p.Category != free.ID {
		t.Fatalf("post category %v, want %d", p.Category, free.ID)
	}
	e.do("DELETE", one, admin.Access, nil).wantStatus(http.StatusNoContent)
	e.do("GET", fmt.Sprint("/api/post/detail/", p.ID), "", nil).wantStatus(200).wantBody(`"category":null`)
	e.do("POST", "/api/post/write", user.Access, map[string]any{"title": "t", "content": "c", "category": free.ID}).wantStatus(400)
}
