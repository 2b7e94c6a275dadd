// Package web is maru's HTTP face: the JSON API, the pages, the chat socket
// and the middleware that authenticates and guards them all.
package web

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"

	"maru/store"
	"maru/web/chat"
)

// Config is everything about the server that an operator can set.
type Config struct {
	// BaseURL is the public URL, such as https://club.example.org. It makes
	// absolute links and, when https, secure cookies. Empty means links are
	// relative paths (never built from a request's Host).
	BaseURL string
	// Version is reported by /healthz.
	Version string
	// MaxJSONBytes caps a JSON request body; MaxUploadBytes a multipart one.
	MaxJSONBytes   int64
	MaxUploadBytes int64
	// BodyTimeout is how long a client may take to send a JSON body (30 s
	// by default); an upload may take four times as long.
	BodyTimeout time.Duration
	// AccessTTL and RefreshTTL are the lifetimes of the two kinds of token.
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// RefreshMaxAge is the absolute lifetime of a login through its refresh
	// tokens: rotation slides each token's RefreshTTL forward, but never
	// past RefreshMaxAge after the login. Zero means the default, 90 days;
	// a negative value means no bound.
	RefreshMaxAge time.Duration
	// SessionTTL is the lifetime of a browser session.
	SessionTTL time.Duration
	// LoginFailures is how many failed logins an account, or a client address
	// five times as many, may have within LoginWindow before it gets 429.
	LoginFailures int
	LoginWindow   time.Duration
	// RegisterRate is how many accounts one client address may register an
	// hour, in bursts of half that (an IPv6 address counts by its /64).
	// Zero means the default, 60; a negative value turns the limit off.
	RegisterRate float64
	// Signup is who may register: SignupOpen (the default), SignupInvite
	// or SignupClosed.
	Signup string
	// ChatMaxLen is the longest chat message, in characters (default 2000).
	ChatMaxLen int
	// ChatRate is how many messages per second one socket may send, with
	// bursts of twice that. Zero means the default, 5; a negative value
	// turns the limit off (load tests).
	ChatRate float64
	// PostRate and RoomRate are how many posts and chat rooms one user may
	// create an hour, in bursts of a third of that. Zero means the
	// defaults, 30 and 20; a negative value turns the limit off. Chat
	// messages sent over REST are limited per user like a socket's
	// (ChatRate).
	PostRate float64
	RoomRate float64
	// ChatSockets is how many chat sockets one user may have open at once;
	// the next one is refused with 429 before the upgrade. Zero means the
	// default, 20; a negative value turns the limit off.
	ChatSockets int
	// ChatQueue is how many frames a socket may have waiting to be written
	// before it counts as too slow and is dropped (default 256).
	ChatQueue int
	// ChatWriteTimeout bounds one write to a socket, and the wait for the
	// answer to a ping (default 10s). ChatPingInterval is how often a socket
	// is pinged (default 30s), which keeps idle sockets open through proxies
	// and finds dead peers.
	ChatWriteTimeout time.Duration
	ChatPingInterval time.Duration
	// WriteTimeout bounds the writing of each response, from the moment
	// its handler starts: a client that stops reading is cut off then
	// instead of holding its answer in memory (60 s by default; negative:
	// no bound). Chat sockets are exempt, they have their own timeouts.
	WriteTimeout time.Duration
	// ResponseMemory bounds the bytes that post lists and posts being
	// answered hold at once, over all requests together (32 MiB by
	// default; negative: no bound). Requests beyond it wait, and get 503
	// after half of WriteTimeout.
	ResponseMemory int64
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For and X-Forwarded-Proto headers are believed. Empty:
	// the peer is the client, whatever the headers say.
	TrustedProxies []netip.Prefix
	// CORSOrigins are the origins (https://app.example.org) of web front
	// ends that may call the API from a browser, with tokens. Empty: none.
	CORSOrigins []string
	// Metrics turns on the counting that MetricsHandler serves. Off, no
	// request pays for it.
	Metrics bool
}

// withDefaults fills the zero fields of c with the documented defaults.
func (c Config) withDefaults() Config {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxJSONBytes, 1<<20)
	def(&c.MaxUploadBytes, 5<<20)
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	dur(&c.BodyTimeout, 30*time.Second)
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 60 * time.Second
	}
	if c.RegisterRate == 0 {
		c.RegisterRate = 60
	}
	if c.ResponseMemory == 0 {
		c.ResponseMemory = 32 << 20
	}
	dur(&c.AccessTTL, 15*time.Minute)
	dur(&c.RefreshTTL, 14*24*time.Hour)
	if c.RefreshMaxAge == 0 {
		c.RefreshMaxAge = 90 * 24 * time.Hour
	}
	dur(&c.SessionTTL, 14*24*time.Hour)
	dur(&c.LoginWindow, 15*time.Minute)
	if c.LoginFailures <= 0 {
		c.LoginFailures = 5
	}
	if c.ChatMaxLen <= 0 {
		c.ChatMaxLen = 2000
	}
	if c.ChatRate == 0 {
		c.ChatRate = 5
	}
	if c.ChatSockets == 0 {
		c.ChatSockets = 20
	}
	if c.PostRate == 0 {
		c.PostRate = 30
	}
	if c.RoomRate == 0 {
		c.RoomRate = 20
	}
	if c.ChatQueue <= 0 {
		c.ChatQueue = 256
	}
	dur(&c.ChatWriteTimeout, 10*time.Second)
	dur(&c.ChatPingInterval, 30*time.Second)
	if c.Signup == "" {
		c.Signup = SignupOpen
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c
}

// Server serves maru over HTTP. Build it with NewServer.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  *store.Store
	assets *assets
	pages  templates
	// boardRows keeps the parts of board rows that change with their post.
	boardRows rowCache
	sessions  *scs.SessionManager
	tokens    *tokenAuthority
	logins    *loginThrottle
	postJSON  postEncoder
	handler   http.Handler
	base      *url.URL // parsed BaseURL, nil when unset

	proxies     trustedProxies
	requestIDs  *requestIDs
	metrics     *serverMetrics // nil when Config.Metrics is off
	corsOrigins map[string]bool
	// responses bounds the memory of post answers in flight.
	responses *byteBudget
	// registrations limits sign-ups per client address.
	registrations *registrationLimiter

	// Per-user limits on writes; nil when off.
	postLimit, roomLimit, messageLimit *userLimiter
	sockets                            *socketRegistry
	// pictureSlots bounds how many pictures are decoded at once: each may
	// take up to decodeBudget while it is worked on.
	pictureSlots chan struct{}

	// apiRoutes lists the patterns of the JSON routes, as routes.go
	// registers them, which the OpenAPI document must describe; apiDocs
	// builds, once, what the reference page shows of that document.
	apiRoutes []string
	apiDocs   func() (*docsPage, error)
	// allRoutes lists the pattern of every route, JSON or page, as
	// routes.go registers it.
	allRoutes []string

	started time.Time // when NewServer ran: the admin page's uptime

	hub     *chat.Hub
	publish chat.Publisher // the hub, or later a cross-node broker in front of it
}

// NewServer wires the routes and middleware over st. Everything that can be
// wrong with the configuration or the embedded files fails here, at start-up,
// not on some later request.
func NewServer(cfg Config, logger *slog.Logger, st *store.Store, static fs.FS) (*Server, error) {
	cfg = cfg.withDefaults()
	var base *url.URL
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("base URL %q: want http(s)://host[:port]", cfg.BaseURL)
		}
		base = u
	}
	if err := checkSignupMode(cfg.Signup); err != nil {
		return nil, err
	}
	secret, err := st.Secret(context.Background(), "jwt_secret", 32)
	if err != nil {
		return nil, err
	}
	as, err := newAssets(static)
	if err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}

	sm := scs.New()
	sm.Store = st.Sessions()
	sm.Lifetime = cfg.SessionTTL
	sm.Cookie.Name = "maru_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = base != nil && base.Scheme == "https"

	s := &Server{
		cfg:        cfg,
		log:        logger,
		store:      st,
		assets:     as,
		pages:      pages,
		sessions:   sm,
		tokens:     &tokenAuthority{secret: secret, accessTTL: cfg.AccessTTL, refreshTTL: cfg.RefreshTTL, now: st.Now},
		responses:  newByteBudget(cfg.ResponseMemory),
		logins:     newLoginThrottle(cfg.LoginFailures, cfg.LoginWindow, st.Now),
		base:       base,
		proxies:    trustedProxies(cfg.TrustedProxies),
		requestIDs: newRequestIDs(),
		started:    time.Now(),
		hub:        chat.NewHub(cfg.ChatQueue),
		apiDocs:    sync.OnceValues(buildAPIDocs),
	}
	s.publish = s.hub
	if s.corsOrigins, err = corsOrigins(cfg.CORSOrigins); err != nil {
		return nil, err
	}
	if cfg.Metrics {
		s.metrics = newServerMetrics(s)
	}
	st.OnBackgroundFailure(func(task string, err error) {
		if err != nil {
			s.log.Error("background task failing", "task", task, "err", err)
		} else {
			s.log.Info("background task working again", "task", task)
		}
	})
	s.registrations = newRegistrationLimiter(cfg.RegisterRate, st.Now)
	s.tokens.refreshMaxAge = max(cfg.RefreshMaxAge, 0)
	s.sockets = newSocketRegistry(max(cfg.ChatSockets, 0))
	s.pictureSlots = make(chan struct{}, 2)
	s.postLimit = perHour(cfg.PostRate, st.Now)
	s.roomLimit = perHour(cfg.RoomRate, st.Now)
	s.messageLimit = newUserLimiter(cfg.ChatRate, int(math.Ceil(2*cfg.ChatRate)), st.Now)
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.log.Error("browser session", "path", r.URL.Path, "err", err)
		s.writeProblem(w, r, problem{status: http.StatusInternalServerError, body: detail(msgServerError), msgKey: "error.session"})
	}

	cop := http.NewCrossOriginProtection()
	if base != nil {
		if err := cop.AddTrustedOrigin(base.Scheme + "://" + base.Host); err != nil {
			return nil, fmt.Errorf("base URL: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeProblem(w, r, problem{status: http.StatusForbidden, body: detail("CSRF Failed: cross-origin request refused."), msgKey: "error.crossorigin"})
	}))
	s.handler = s.routes(cop)
	return s, nil
}

// ServeHTTP makes *Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// absURL turns a site path into a URL for a client: absolute under BaseURL
// when it is set, else the path alone. The request's Host is never used: a
// URL built for one request may reach other users (a chat frame, a cached
// answer), and a Host is whatever that one client chose to send.
func (s *Server) absURL(path string) string { return s.cfg.BaseURL + path }

// Close releases what the server holds beyond its HTTP requests: it closes
// every chat socket with 1001 (going away), after writing out the frames
// already queued for it, and waits a bounded time for them to end.
// http.Server.Shutdown does not do this, since it leaves hijacked
// connections alone. Call it after Shutdown and before closing the store.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ChatWriteTimeout+5*time.Second)
	defer cancel()
	if err := s.hub.Close(ctx); err != nil {
		s.log.Warn("chat sockets still open after shutdown timeout", "err", err)
	}
}
