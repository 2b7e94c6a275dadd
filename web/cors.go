package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// CORS lets a web front end served from another origin use the API with
// tokens. Off unless Config.CORSOrigins lists origins; then only those,
// and only with tokens: no Access-Control-Allow-Credentials is ever sent,
// and the cookies of such a request are dropped before the session is
// read, so a listed origin gets no ambient authority from a visitor's
// browser session. That is also why these requests may skip the
// cross-origin (CSRF) guard: there is nothing left to forge.

var (
	hdrCORSMethods = []string{"GET, POST, PUT, PATCH, DELETE"}
	hdrCORSHeaders = []string{"Authorization, Content-Type"}
	hdrCORSExpose  = []string{"Link, X-Total-Count, X-Request-Id, Retry-After"}
	hdrCORSMaxAge  = []string{"600"}
)

// corsOrigins normalises and checks the configured origins: each must be a
// bare scheme://host[:port], as a browser sends it in Origin.
func corsOrigins(list []string) (map[string]bool, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := make(map[string]bool, len(list))
	for _, o := range list {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("CORS origin %q: want scheme://host[:port], such as https://app.example.org", o)
		}
		out[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return out, nil
}

// cors answers preflights from the listed origins and marks their API
// requests readable by them. Page routes are left alone: a front end uses
// the API, and pages stay same-origin only.
func (s *Server) cors(next http.Handler) http.Handler {
	if len(s.corsOrigins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPageRequest(r) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		// The answer depends on Origin, whichever it is: caches must know.
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" || !s.corsOrigins[strings.ToLower(origin)] {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h["Access-Control-Allow-Methods"] = hdrCORSMethods
			h["Access-Control-Allow-Headers"] = hdrCORSHeaders
			h["Access-Control-Max-Age"] = hdrCORSMaxAge
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h["Access-Control-Expose-Headers"] = hdrCORSExpose
		r.Header.Del("Cookie") // tokens only, see above
		info(r).cors = true
		next.ServeHTTP(w, r)
	})
}
