package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"maru/store"
)

// problem is what a client is told about a failed request: the status, the
// DRF-shaped body an API client parses, extra headers, and for pages the
// catalog key of the sentence a person reads.
type problem struct {
	status int
	body   any
	header http.Header
	msgKey string // page text; empty: the status's own
	fields map[string][]string
	limit  string // for a 429: the limit that refused, named in the metrics
}

// problemOf decides what err means to a client. Store errors and API errors
// meet their statuses here and nowhere else; both the JSON and the HTML
// renderer ask it. ok is false for an unexpected error, which the caller
// logs and answers as a bare 500.
func problemOf(err error) (p problem, ok bool) {
	var ae *apiError
	var ve *store.ValidationError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		p = problem{status: ae.status, body: ae.body, header: ae.header, msgKey: ae.msgKey, limit: ae.limit}
		if ae.status == http.StatusUnauthorized {
			p.header = p.header.Clone()
			if p.header == nil {
				p.header = http.Header{}
			}
			p.header.Set("WWW-Authenticate", `Bearer realm="api"`)
		}
	case errors.As(err, &ve):
		p = problem{status: http.StatusBadRequest, body: ve.Fields, fields: ve.Fields}
	case errors.As(err, &mbe):
		p = problem{status: http.StatusRequestEntityTooLarge, body: detail(msgTooLarge)}
	case errors.Is(err, store.ErrNotFound):
		p = problem{status: http.StatusNotFound, body: detail(msgNotFound)}
	case errors.Is(err, store.ErrBusy):
		p = problem{status: errBusy.status, body: errBusy.body, header: errBusy.header}
	case errors.Is(err, store.ErrConflict):
		p = problem{status: http.StatusBadRequest, body: map[string][]string{"non_field_errors": {"This change conflicts with existing data."}}, msgKey: "error.conflict"}
	default:
		return problem{status: http.StatusInternalServerError, body: detail(msgServerError)}, false
	}
	return p, true
}

// isPageRequest tells the two kinds of route apart: the JSON API (and the
// socket, the pictures and the static files, which machines fetch) answer
// errors in JSON; everything else is a page a person reads, and answers
// with one.
func isPageRequest(r *http.Request) bool {
	p := r.URL.Path
	for _, prefix := range apiPrefixes {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	return p != "/healthz"
}

// apiPrefixes are the path prefixes of every route that machines call.
var apiPrefixes = []string{"/api/", "/user/", "/mysite/", "/ws/", "/media/", "/static/", "/healthz/"}

// writeError answers err in the shape its route calls for: DRF JSON for the
// API, the error page for pages. Anything unexpected is logged and becomes
// a generic 500 whose body says nothing about the cause.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := problemOf(err)
	if !ok {
		s.serverError(w, r, err)
		return
	}
	s.writeProblem(w, r, p)
}

func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, p problem) {
	if p.status == http.StatusTooManyRequests && s.metrics != nil {
		limit := p.limit
		if limit == "" { // a per-route limit: the route names it
			limit = routeLabel(info(r).route, r.Pattern)
		}
		s.metrics.throttled(limit)
	}
	for k, vs := range p.header {
		w.Header()[k] = vs
	}
	if isPageRequest(r) {
		s.renderError(w, r, p)
		return
	}
	s.writeJSON(w, r, p.status, p.body)
}

// serverError logs err and answers a generic 500, unless the client has
// already gone, when there is nobody to answer and nothing to fix.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "client gone", slog.String("path", r.URL.Path))
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	s.writeProblem(w, r, problem{status: http.StatusInternalServerError, body: detail(msgServerError)})
}
