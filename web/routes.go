package web

import (
	"net/http"
	"strings"
)

// routes lists every route of maru in one place and wraps them in the
// middleware chain, outermost first: recover, log, client address and
// request id (observe.go), metrics, security headers, CORS, then
// (except for static files, pictures and health) cross-origin protection,
// the browser session and authentication.
func (s *Server) routes(cop *http.CrossOriginProtection) http.Handler {
	app := routeMux{http.NewServeMux(), &s.allRoutes}
	// api registers a JSON route behind the guards; publicAPI one before
	// them. Both record it: the OpenAPI document must describe each.
	api := func(pattern string, h http.HandlerFunc) {
		s.apiRoutes = append(s.apiRoutes, pattern)
		handleBoth(app, pattern, h)
	}
	public := routeMux{http.NewServeMux(), &s.allRoutes}
	publicAPI := func(pattern string, h http.HandlerFunc) {
		s.apiRoutes = append(s.apiRoutes, pattern)
		handleBoth(public, pattern, h)
	}

	// Accounts and profiles.
	api("POST /user/registration/", s.handleRegister)
	api("POST /user/login/", s.handleLogin)
	api("POST /user/token/refresh/", s.handleTokenRefresh)
	api("POST /user/logout/", s.requireUser(s.handleLogout))
	api("GET /mysite/user/v1/profile/", s.requireUser(s.handleProfile))
	api("PUT /mysite/user/v1/profile/edit/", s.requireUser(s.handleProfileEdit))
	api("PATCH /mysite/user/v1/profile/edit/", s.requireUser(s.handleProfileEdit))

	// The account's life: password, export, leaving.
	api("POST /user/password/change/", s.requireUser(s.handlePasswordChange))
	api("GET /mysite/user/v1/export/", s.requireUser(s.handleExport))
	api("POST /user/delete/", s.requireUser(s.handleDeleteAccount))

	// Admin: invites, password reset links, moderation and its record.
	api("GET /api/admin/invites/", s.requireAdmin(s.handleInvites))
	api("POST /api/admin/invites/", s.requireAdmin(s.handleCreateInvite))
	api("DELETE /api/admin/invites/{id}/", s.requireAdmin(s.handleRevokeInvite))
	api("GET /api/admin/users/", s.requireAdmin(s.handleAdminUserList))
	api("POST /api/admin/users/{id}/reset-link/", s.requireAdmin(s.handleResetLink))
	api("POST /api/admin/users/{id}/disable/", s.requireAdmin(s.handleDisableUser))
	api("POST /api/admin/users/{id}/enable/", s.requireAdmin(s.handleEnableUser))
	api("DELETE /api/admin/posts/{id}/", s.requireAdmin(s.handleAdminDeletePost))
	api("DELETE /api/admin/rooms/{id}/", s.requireAdmin(s.handleAdminDeleteRoom))
	api("DELETE /api/admin/messages/{id}/", s.requireAdmin(s.handleAdminDeleteMessage))
	api("GET /api/admin/audit-log/", s.requireAdmin(s.handleAuditLog))

	// Friends.
	api("POST /user/add-friend/", s.requireUser(s.handleAddFriend))
	api("GET /user/friends/", s.requireUser(s.handleFriends))
	api("GET /user/friend-profile/{id}/", s.requireUser(s.handleFriendProfile))
	api("GET /user/search-friends/", s.requireUser(s.handleSearchFriends))
	api("POST /user/delete-friend/", s.requireUser(s.handleDeleteFriend))

	// Chat. The socket authenticates itself: it also takes ?token=.
	api("POST /api/chat/room/", s.requireUser(s.handleRoomCreate))
	api("GET /api/chat/room/", s.requireUser(s.handleRooms))
	api("GET /api/chat/room/{id}/", s.requireUser(s.handleRoom))
	api("POST /api/chat/room/{id}/", s.requireUser(s.handleRoom))
	api("GET /api/chat/room/{id}/messages/", s.requireUser(s.handleRoomMessages))
	api("POST /api/chat/message/", s.requireUser(s.handleMessageCreate))
	api("GET /ws/chat/{room_id}/chat/", s.handleChatSocket)

	// The board. POST on the list is the seed's way to search; the edit
	// route takes POST, PUT and PATCH alike.
	api("GET /api/post/", s.handleListPosts)
	api("POST /api/post/", s.handleListPosts)
	api("POST /api/post/write", s.requireUser(s.handleWritePost))
	api("GET /api/post/detail/{id}/", s.handlePostDetail)
	api("DELETE /api/post/detail/{id}/", s.requireUser(s.handleDeletePost))
	api("POST /api/post/detail/{id}/delete/", s.requireUser(s.handleDeletePost))
	api("GET /api/post/detail/{id}/edit/", s.requireUser(s.handleEditPostForm))
	api("POST /api/post/detail/{id}/edit/", s.requireUser(s.handleEditPost))
	api("PUT /api/post/detail/{id}/edit/", s.requireUser(s.handleEditPost))
	api("PATCH /api/post/detail/{id}/edit/", s.requireUser(s.handleEditPost))
	api("GET /api/post/categories", s.handleCategories)
	api("POST /api/post/categories", s.handleCategories)
	api("POST /api/post/categories/create", s.requireAdmin(s.handleCreateCategory))
	api("PUT /api/post/categories/{id}", s.requireAdmin(s.handleRenameCategory))
	api("PATCH /api/post/categories/{id}", s.requireAdmin(s.handleRenameCategory))
	api("DELETE /api/post/categories/{id}", s.requireAdmin(s.handleDeleteCategory))

	// Pages. Each answers HTML, errors included (see isPageRequest).
	app.HandleFunc("GET /{$}", s.handleBoard)
	app.HandleFunc("GET /posts/{id}", s.handlePostPage)
	app.HandleFunc("GET /posts/new", s.requirePageUser(s.handleNewPostPage))
	app.HandleFunc("POST /posts/new", s.requirePageUser(s.handleNewPostSubmit))
	app.HandleFunc("GET /posts/{id}/edit", s.requirePageUser(s.handleEditPostPage))
	app.HandleFunc("POST /posts/{id}/edit", s.requirePageUser(s.handleEditPostSubmit))
	app.HandleFunc("GET /posts/{id}/delete", s.requirePageUser(s.handleDeletePostPage))
	app.HandleFunc("POST /posts/{id}/delete", s.requirePageUser(s.handleDeletePostSubmit))
	app.HandleFunc("GET /login", s.handleLoginPage)
	app.HandleFunc("POST /login", s.handleLoginSubmit)
	app.HandleFunc("GET /register", s.handleRegisterPage)
	app.HandleFunc("POST /register", s.handleRegisterSubmit)
	app.HandleFunc("POST /logout", s.handleLogoutPage)
	app.HandleFunc("POST /lang", s.handleLanguage)
	app.HandleFunc("GET /profile", s.requirePageUser(s.handleProfilePage))
	app.HandleFunc("GET /profile/edit", s.requirePageUser(s.handleProfileEditPage))
	app.HandleFunc("POST /profile/edit", s.requirePageUser(s.handleProfileEditSubmit))
	app.HandleFunc("GET /users/{id}", s.requirePageUser(s.handleUserPage))
	app.HandleFunc("GET /friends", s.requirePageUser(s.handleFriendsPage))
	app.HandleFunc("POST /friends/add", s.requirePageUser(s.handleFriendAdd))
	app.HandleFunc("POST /friends/remove", s.requirePageUser(s.handleFriendRemove))
	app.HandleFunc("GET /admin", s.requirePageAdmin(s.handleAdminPage))
	app.HandleFunc("GET /admin/categories", s.requirePageAdmin(s.handleAdminCategories))
	app.HandleFunc("POST /admin/categories", s.requirePageAdmin(s.handleAdminCategoryCreate))
	app.HandleFunc("POST /admin/categories/{id}", s.requirePageAdmin(s.handleAdminCategoryRename))
	app.HandleFunc("GET /admin/categories/{id}/delete", s.requirePageAdmin(s.handleAdminCategoryConfirm))
	app.HandleFunc("POST /admin/categories/{id}/delete", s.requirePageAdmin(s.handleAdminCategoryDelete))
	app.HandleFunc("GET /admin/users", s.requirePageAdmin(s.handleAdminUsers))
	app.HandleFunc("POST /admin/users/{id}/admin", s.requirePageAdmin(s.handleAdminSetAdmin))
	app.HandleFunc("GET /admin/users/{id}/disable", s.requirePageAdmin(s.handleAdminDisableConfirm))
	app.HandleFunc("POST /admin/users/{id}/disable", s.requirePageAdmin(s.handleAdminDisable))
	app.HandleFunc("POST /admin/users/{id}/enable", s.requirePageAdmin(s.handleAdminEnable))
	app.HandleFunc("POST /admin/users/{id}/reset-link", s.requirePageAdmin(s.handleAdminResetLink))
	app.HandleFunc("GET /admin/invites", s.requirePageAdmin(s.handleAdminInvites))
	app.HandleFunc("POST /admin/invites", s.requirePageAdmin(s.handleAdminInviteCreate))
	app.HandleFunc("POST /admin/invites/{id}/revoke", s.requirePageAdmin(s.handleAdminInviteRevoke))
	app.HandleFunc("GET /admin/rooms", s.requirePageAdmin(s.handleAdminRooms))
	app.HandleFunc("GET /admin/rooms/{id}/delete", s.requirePageAdmin(s.handleAdminRoomConfirm))
	app.HandleFunc("POST /admin/rooms/{id}/delete", s.requirePageAdmin(s.handleAdminRoomDelete))
	app.HandleFunc("GET /admin/messages/{id}/delete", s.requirePageAdmin(s.handleAdminMessageConfirm))
	app.HandleFunc("POST /admin/messages/{id}/delete", s.requirePageAdmin(s.handleAdminMessageDelete))
	app.HandleFunc("GET /admin/audit", s.requirePageAdmin(s.handleAdminAudit))
	app.HandleFunc("GET /profile/password", s.requirePageUser(s.handlePasswordPage))
	app.HandleFunc("POST /profile/password", s.requirePageUser(s.handlePasswordSubmit))
	app.HandleFunc("GET /profile/delete", s.requirePageUser(s.handleDeleteAccountPage))
	app.HandleFunc("POST /profile/delete", s.requirePageUser(s.handleDeleteAccountSubmit))
	app.HandleFunc("GET /reset/{token}", s.handleResetPage)
	app.HandleFunc("POST /reset/{token}", s.handleResetSubmit)
	app.HandleFunc("GET /chat", s.requirePageUser(s.handleChatRoomsPage))
	app.HandleFunc("POST /chat", s.requirePageUser(s.handleChatRoomCreatePage))
	app.HandleFunc("GET /chat/{id}", s.requirePageUser(s.handleChatRoomPage))
	app.HandleFunc("POST /chat/{id}", s.requirePageUser(s.handleChatSendPage))
	handleBoth(app, "GET /api/docs", http.HandlerFunc(s.handleAPIDocs))

	public.Handle("GET /static/", s.assets.handler())
	public.HandleFunc("GET /media/pictures/{key}", s.handlePicture)
	publicAPI("GET /healthz", s.handleHealth)
	publicAPI("GET /api/openapi.json", s.handleOpenAPI)
	public.ServeMux.Handle("/", guardCrossOrigin(cop, s.loadSession(s.authenticate(s.matchOrRefuse(app.ServeMux)))))

	return s.limitWrite(s.recoverPanics(s.logRequests(s.identify(s.measure(s.secureHeaders(s.cors(public)))))))
}

// routeMux is a ServeMux that records each pattern registered on it, as
// routes.go writes it, so that a test can hold every route to account
// (the authorization table lists each with who may use it).
type routeMux struct {
	*http.ServeMux
	patterns *[]string
}

func (m routeMux) Handle(pattern string, h http.Handler) {
	*m.patterns = append(*m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// handleBoth registers pattern both with and without its trailing slash:
// the seed's clients use both forms and, since they POST, cannot follow a
// redirect from one to the other. "{$}" keeps "/x/" from matching "/x/y".
// It records the pattern once, as written.
func handleBoth(mux routeMux, pattern string, h http.Handler) {
	*mux.patterns = append(*mux.patterns, pattern)
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "/")
	mux.ServeMux.Handle(method+" "+path, h)
	mux.ServeMux.Handle(method+" "+path+"/{$}", h)
}

// matchOrRefuse serves matched routes from mux and answers the rest itself:
// with the error page or DRF's JSON bodies for 404 and 405 instead of
// net/http's plain text.
func (s *Server) matchOrRefuse(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		info(r).route = pattern
		if pattern != "" {
			mux.ServeHTTP(w, r) // ServeHTTP, not h: it also sets r's path values
			return
		}
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.status {
		case http.StatusMethodNotAllowed:
			w.Header()["Allow"] = probe.header["Allow"]
			s.writeProblem(w, r, problem{status: http.StatusMethodNotAllowed, body: detail(`Method "` + r.Method + `" not allowed.`)})
		case http.StatusNotFound:
			s.writeError(w, r, errNotFound)
		default: // a redirect to the cleaned path
			for k, v := range probe.header {
				w.Header()[k] = v
			}
			w.WriteHeader(probe.status)
		}
	})
}

// headerProbe records what net/http's own 404, 405 and redirect handlers
// would answer, without sending it.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
