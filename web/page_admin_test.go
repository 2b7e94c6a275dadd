package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every admin page and action is for admins only: anyone else gets the 403
// page (or the login page when logged out), and a refused POST changes
// nothing.
func TestAdminPagesForAdminsOnly(t *testing.T) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	user := e.register("user@example.com")
	ctx := context.Background()
	cat, err := e.store.CreateCategory(ctx, "공지")
	if err != nil {
		t.Fatal(err)
	}
	catPath := "/admin/categories/" + strconv.FormatInt(cat.ID, 10)
	userAdmin := "/admin/users/" + strconv.FormatInt(user.ID, 10) + "/admin"
	adminAdmin := "/admin/users/" + strconv.FormatInt(admin.ID, 10) + "/admin"
	adminUser := "/admin/users/" + strconv.FormatInt(admin.ID, 10)
	room := e.createRoom(admin, "Lobby")
	msg := e.sendMessage(admin, room.ID, "hello")
	roomPath := "/admin/rooms/" + strconv.FormatInt(room.ID, 10)
	msgPath := "/admin/messages/" + strconv.FormatInt(msg.ID, 10)
	invite, err := e.store.CreateInvite(ctx, admin.ID, 1, 0)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/admin", nil},
		{"GET", "/admin/categories", nil},
		{"GET", "/admin/users", nil},
		{"GET", catPath + "/delete", nil},
		{"POST", "/admin/categories", url.Values{"name": {"sneaky"}}},
		{"POST", catPath, url.Values{"name": {"renamed"}}},
		{"POST", catPath + "/delete", nil},
		{"POST", userAdmin, url.Values{"admin": {"1"}}},
		{"POST", adminAdmin, url.Values{"admin": {"0"}}},
		{"GET", "/admin/invites", nil},
		{"POST", "/admin/invites", url.Values{"max_uses": {"5"}}},
		{"POST", "/admin/invites/" + strconv.FormatInt(invite.ID, 10) + "/revoke", nil},
		{"GET", "/admin/rooms", nil},
		{"GET", roomPath + "/delete", nil},
		{"POST", roomPath + "/delete", nil},
		{"GET", msgPath + "/delete", nil},
		{"POST", msgPath + "/delete", nil},
		{"GET", "/admin/audit", nil},
		{"GET", adminUser + "/disable", nil},
		{"POST", adminUser + "/disable", nil},
		{"POST", adminUser + "/enable", nil},
		{"POST", adminUser + "/reset-link", nil},
	}
	b := e.browser()
	b.login(user.Email)
	anon := e.browser()
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var res, anonRes *response
			if tt.method == "GET" {
				res, anonRes = b.get(tt.path), anon.get(tt.path)
			} else {
				res, anonRes = b.post(tt.path, tt.form), anon.post(tt.path, tt.form)
			}
			res.wantStatus(http.StatusForbidden).wantBody("You do not have permission")
			if loc := anonRes.wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/login?next="+url.QueryEscape(tt.path) {
				t.Fatalf("logged out: sent to %q", loc)
			}
		})
	}
	cats, _ := e.store.Categories(ctx)
	if len(cats) != 1 || cats[0].Name != "공지" {
		t.Fatalf("refused posts changed the categories: %+v", cats)
	}
	counts, _ := e.store.Counts(ctx)
	if u, _ := e.store.UserByID(ctx, user.ID); u.IsAdmin || counts.Admins != 1 {
		t.Fatalf("refused posts changed the admins: user admin %v, %d admins", u.IsAdmin, counts.Admins)
	}
	if log, _ := e.store.AuditLog(ctx, 0, 10); len(log) != 0 || counts.Rooms != 1 || counts.Messages != 1 {
		t.Fatalf("refused posts changed something: audit %+v, counts %+v", log, counts)
	}
	if invs, _ := e.store.Invites(ctx); len(invs) != 1 || !invs[0].RevokedAt.IsZero() {
		t.Fatalf("refused posts changed the invites: %+v", invs)
	}
	// The navigation offers the admin page to admins only.
	b.get("/").wantNoBody(`href="/admin"`)
	a := e.browser()
	a.login(admin.Email)
	a.get("/").wantBody(`href="/admin"`)
}

func TestAdminOverview(t *testing.T) {
	e := newTestEnvWith(t, Config{Version: "1.2.3-test"})
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	e.register("other@example.com")
	e.do("POST", "/api/post/write", admin.Access, map[string]any{"title": "t", "content": "c"}).wantStatus(http.StatusCreated)
	e.do("POST", "/api/chat/room/", admin.Access, map[string]any{"name": "lobby"}).wantStatus(http.StatusCreated)
	b := e.browser()
	b.login(admin.Email)
	size, err := e.store.DiskSize()
	if err != nil {
		t.Fatal(err)
	}
	res := b.get("/admin").wantStatus(http.StatusOK).wantBody(
		"<dt>Users</dt><dd>2</dd>", "<dt>Admins</dt><dd>1</dd>", "<dt>Posts</dt><dd>1</dd>",
		"<dt>Chat rooms</dt><dd>1</dd>", "<dt>Chat messages</dt><dd>0</dd>", "1.2.3-test", "Running for",
		`href="/admin/categories"`, `href="/admin/users"`, `aria-current="page">Overview`)
	// The size is of the file and its WAL, which grow: at least what was there before.
	if !containsAtLeast(string(res.Body), `data-bytes="`, size) {
		t.Fatalf("database size below %d bytes", size)
	}
}

// containsAtLeast reports whether s holds prefix followed by a number >= n.
func containsAtLeast(s, prefix string, n int64) bool {
	i := strings.Index(s, prefix)
	if i < 0 {
		return false
	}
	rest := s[i+len(prefix):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	v, err := strconv.ParseInt(rest[:j], 10, 64)
	return err == nil && v >= n
}

func TestUptimeAndBytes(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "0 min"},
		{59 * time.Minute, "59 min"},
		{3*time.Hour + 5*time.Minute, "3 h 5 min"},
		{50 * time.Hour, "2 days 2 h"},
	} {
		if got := uptime("en", tt.d); got != tt.want {
			t.Errorf("uptime(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KB"}, {5 << 20, "5.0 MB"}, {3 << 30, "3.0 GB"}} {
		if got := formatBytes(tt.n); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestAdminCategories(t *testing.T) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	b := e.browser()
	b.login(admin.Email)
	ctx := context.Background()

	b.get("/admin/categories").wantStatus(http.StatusOK).wantBody("No categories yet.", `action="/admin/categories"`)
	b.follow(b.post("/admin/categories", url.Values{"name": {"공지사항"}})).wantBody("Category 공지사항 created", "Categories (1)")
	cats, _ := e.store.Categories(ctx)
	if len(cats) != 1 {
		t.Fatalf("categories after create: %+v", cats)
	}
	id := strconv.FormatInt(cats[0].ID, 10)
	b.follow(b.post("/admin/categories", url.Values{"name": {"Talk"}}))

	// Refusals keep the input and show the message at the right form.
	b.post("/admin/categories", url.Values{"name": {"talk"}}).wantStatus(http.StatusBadRequest).
		wantBody(`id="new-name-err"><p class="field-error">A category with this name already exists.`, `value="talk"`)
	b.post("/admin/categories", url.Values{"name": {" "}}).wantStatus(http.StatusBadRequest).
		wantBody("This field may not be blank.")
	b.post("/admin/categories/"+id, url.Values{"name": {"TALK"}}).wantStatus(http.StatusBadRequest).
		wantBody(`id="name-`+id+`-err"><p class="field-error">A category with this name already exists.`, `value="TALK"`)
	b.post("/admin/categories/999", url.Values{"name": {"x"}}).wantStatus(http.StatusNotFound)

	b.follow(b.post("/admin/categories/"+id, url.Values{"name": {"공지"}})).wantBody("Category renamed to 공지")

	// Delete asks first, on a page of its own; its posts stay, uncategorized.
	post := e.do("POST", "/api/post/write", admin.Access, map[string]any{"title": "in it", "content": "c", "category": cats[0].ID}).
		wantStatus(http.StatusCreated)
	var p struct{ ID int64 }
	post.decode(&p)
	b.get("/admin/categories").wantBody(`href="/admin/categories/` + id + `/delete"`)
	b.get("/admin/categories/"+id+"/delete").wantStatus(http.StatusOK).
		wantBody("Delete the category “공지”?", `action="/admin/categories/`+id+`/delete"`, "Keep it")
	if n, _ := e.store.Categories(ctx); len(n) != 2 {
		t.Fatal("the confirmation page deleted something")
	}
	b.follow(b.post("/admin/categories/"+id+"/delete", nil)).wantBody("Category 공지 deleted", "Categories (1)")
	e.do("GET", "/api/post/detail/"+strconv.FormatInt(p.ID, 10)+"/", "", nil).wantStatus(http.StatusOK).wantBody(`"category":null`)
	b.get("/admin/categories/" + id + "/delete").wantStatus(http.StatusNotFound)
	b.post("/admin/categories/"+id+"/delete", nil).wantStatus(http.StatusNotFound)
}

func TestAdminUsers(t *testing.T) {
	e := newTestEnv(t)
	admin := e.register("admin@example.com")
	e.makeAdmin(admin)
	hidden := e.register("hidden@example.com")
	e.do("PATCH", "/mysite/user/v1/profile/edit/", hidden.Access, map[string]any{"is_private": true}).wantStatus(http.StatusOK)
	b := e.browser()
	b.login(admin.Email)
	ctx := context.Background()
	hid := strconv.FormatInt(hidden.ID, 10)

	// No keyword: the admins, myself marked and without a button.
	b.get("/admin/users").wantStatus(http.StatusOK).wantBody("Admins (1)", "admin@example.com", ">You<").
		wantNoBody("hidden@example.com", `action="/admin/users/`+strconv.FormatInt(admin.ID, 10)+`/admin"`)
	// Search finds private accounts by any part of the address.
	b.get("/admin/users?q=HIDD").wantStatus(http.StatusOK).wantBody("hidden@example.com", "Private", `action="/admin/users/`+hid+`/admin"`, "Make admin")

	res := b.post("/admin/users/"+hid+"/admin", url.Values{"admin": {"1"}, "q": {"HIDD"}})
	if loc := res.wantStatus(http.StatusSeeOther).Header.Get("Location"); loc != "/admin/users?q=HIDD" {
		t.Fatalf("make admin went to %q", loc)
	}
	b.get("/admin/users?q=HIDD").wantBody("hidden@example.com is now an admin", "Remove admin")
	if u, _ := e.store.UserByID(ctx, hidden.ID); !u.IsAdmin {
		t.Fatal("not made admin")
	}

	// Never my own role, even with another admin around.
	b.post("/admin/users/"+strconv.FormatInt(admin.ID, 10)+"/admin", url.Values{"admin": {"0"}}).
		wantStatus(http.StatusBadRequest).wantBody(`role="alert"`, "You cannot remove your own admin role")
	if u, _ := e.store.UserByID(ctx, admin.ID); !u.IsAdmin {
		t.Fatal("an admin removed their own role")
	}
	b.post("/admin/users/"+hid+"/admin", url.Values{"admin": {"maybe"}}).wantStatus(http.StatusBadRequest)
	b.post("/admin/users/999/admin", url.Values{"admin": {"1"}}).wantStatus(http.StatusNotFound)

	b.follow(b.post("/admin/users/"+hid+"/admin", url.Values{"admin": {"0"}})).wantBody("hidden@example.com is no longer an admin", "Admins (1)")
	if u, _ := e.store.UserByID(ctx, hidden.ID); u.IsAdmin {
		t.Fatal("not demoted")
	}
	b.get("/admin/users?q=" + url.QueryEscape("a\x00")).wantStatus(http.StatusBadRequest).wantBody(`id="q-err"><p class="field-error">`)
}
