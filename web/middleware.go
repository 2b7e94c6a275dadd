package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"maru/store"
)

// reqInfo travels with a request from the logging middleware inward, so the
// one log line per request can name the user that authentication found.
type reqInfo struct {
	user    *store.User
	authErr error // a bad Bearer token; reported only by routes that need a user

	// Set by identify (observe.go) before anything else runs.
	addr   string // the client's address, behind a trusted proxy too
	scheme string // http or https, as the client sees it
	id     string // the request id, also sent as X-Request-Id
	route  string // the application route's pattern, for the metrics
	cors   bool   // from a CORS origin: cookies dropped, tokens only
}

type ctxKey int

const reqInfoKey ctxKey = iota

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(reqInfoKey).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// currentUser is the authenticated user of r, or nil.
func currentUser(r *http.Request) *store.User { return info(r).user }

// statusWriter remembers the status of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the
// underlying writer's Flush and Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one line per request. It logs the path without its
// query, which may carry a token (?token= on the chat socket).
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// One allocation for both: this runs on every request.
		st := &struct {
			statusWriter
			reqInfo
		}{statusWriter: statusWriter{ResponseWriter: w}}
		next.ServeHTTP(&st.statusWriter, r.WithContext(context.WithValue(r.Context(), reqInfoKey, &st.reqInfo)))
		var uid int64
		if st.user != nil {
			uid = st.user.ID
		}
		status := st.status
		switch {
		case status != 0:
		case r.Context().Err() != nil:
			status = statusClientClosed // gone before an answer was written
		default:
			status = http.StatusOK // nothing written, or a hijacked connection
		}
		s.log.LogAttrs(r.Context(), logLevel(status), "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("user_id", uid),
			slog.String("addr", st.addr),
			slog.String("request_id", st.id),
		)
	})
}

// recoverPanics turns a panic into a generic 500 and a logged stack, so one
// bad request never takes the server down or leaks its internals.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the handler asked to abort the connection: let net/http do it
			}
			s.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			w.Header().Set("Connection", "close")
			s.writeProblem(w, r, problem{status: http.StatusInternalServerError, body: detail(msgServerError)})
		}()
		next.ServeHTTP(w, r)
	})
}

// Content-Security-Policy for pages: everything from our own origin, nothing
// inline, and no framing. API responses get an even stricter one.
const (
	pageCSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; " +
		"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
	apiCSP = "default-src 'none'; frame-ancestors 'none'"
)

// The values of the headers every response carries. They are shared, never
// modified in place: a handler that needs another value replaces the slice
// (Header.Set does), so one allocation serves every request.
var (
	hdrNosniff  = []string{"nosniff"}
	hdrReferrer = []string{"same-origin"}
	hdrFrame    = []string{"DENY"}
	hdrAPICSP   = []string{apiCSP}
	hdrHSTS     = []string{"max-age=31536000"}
)

// secureHeaders sets the headers every response carries, errors included.
// Page handlers replace the CSP with pageCSP. Behind an https BaseURL, or
// to a request that came over https (directly or through a trusted proxy),
// browsers are also told to use https alone from then on.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	hsts := s.base != nil && s.base.Scheme == "https"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = hdrNosniff
		h["Referrer-Policy"] = hdrReferrer
		h["X-Frame-Options"] = hdrFrame
		h["Content-Security-Policy"] = hdrAPICSP
		if hsts || requestScheme(r) == "https" {
			h["Strict-Transport-Security"] = hdrHSTS
		}
		next.ServeHTTP(w, r)
	})
}

// guardCrossOrigin refuses unsafe cross-origin browser requests, which is
// what protects cookie-authenticated requests from CSRF. A request that
// carries its own Authorization header holds no ambient credential, so
// there is nothing to forge and it passes; so does a request from a CORS
// origin, whose cookies cors (cors.go) has dropped.
func guardCrossOrigin(cop *http.CrossOriginProtection, next http.Handler) http.Handler {
	guarded := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || info(r).cors {
			next.ServeHTTP(w, r)
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

// loadSession loads the browser session for requests that may use one.
// Token clients never do, so their requests skip the session table.
func (s *Server) loadSession(next http.Handler) http.Handler {
	withSession := s.sessions.LoadAndSave(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			next.ServeHTTP(w, r)
			return
		}
		withSession.ServeHTTP(w, r)
	})
}

const sessionUserKey = "user_id"

// authenticate finds the user of a request, from a Bearer access token or
// else from the browser session. A bad token is remembered, not answered:
// only routes that need a user report it.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, tok, _ := strings.Cut(h, " ")
			if strings.EqualFold(scheme, "Bearer") {
				ri.user, ri.authErr = s.userFromAccessToken(r.Context(), strings.TrimSpace(tok))
			}
		} else {
			if id := s.sessionUserID(r.Context()); id != 0 {
				u, err := s.store.UserByID(r.Context(), id)
				switch {
				case err == nil:
					if s.sessionValidFor(r.Context(), u) {
						ri.user = u
					}
				case errors.Is(err, store.ErrNotFound):
					// The account is gone; the session means nothing any more.
				default:
					s.serverError(w, r, err)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sessionEpochKey holds the user's auth epoch when the session began.
const sessionEpochKey = "auth_epoch"

// sessionValidFor reports whether the browser session of ctx may act as u:
// not once u is disabled or closed, nor once u's password changed after
// the session began (the epoch moved on).
func (s *Server) sessionValidFor(ctx context.Context, u *store.User) bool {
	return !u.Disabled && !u.Deleted && s.sessions.GetInt64(ctx, sessionEpochKey) == u.AuthEpoch
}

// sessionUserID is the user id the browser session holds, or 0. The session
// must have been loaded into ctx (loadSession does that).
func (s *Server) sessionUserID(ctx context.Context) int64 {
	return s.sessions.GetInt64(ctx, sessionUserKey)
}

// requireUser lets only authenticated requests through to next.
func (s *Server) requireUser(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		if ri.authErr != nil {
			s.writeError(w, r, ri.authErr)
			return
		}
		if ri.user == nil {
			s.writeError(w, r, errNotAuthenticated)
			return
		}
		next(w, r)
	}
}

// statusClientClosed is what the request log says of a request whose
// client went away before it was answered (nginx's 499): nothing was sent.
const statusClientClosed = 499

func logLevel(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
