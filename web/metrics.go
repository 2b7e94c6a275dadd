package web

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"maru/store"
)

// serverMetrics are the server's counters in the Prometheus text format,
// served only on the separate listener of MetricsHandler. Labels come from
// route patterns, statuses and limit names, never from a raw path or
// anything else a client chooses, so the number of series stays bounded.
type serverMetrics struct {
	set *metrics.Set

	mu        sync.RWMutex
	requests  map[routeStatus]*metrics.Counter
	latency   map[string]*metrics.PrometheusHistogram
	throttles map[string]*metrics.Counter
}

type routeStatus struct {
	route  string
	status int
}

// latencyBuckets reach down to half a millisecond: most requests take
// less than one.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newServerMetrics(s *Server) *serverMetrics {
	m := &serverMetrics{
		set:       metrics.NewSet(),
		requests:  make(map[routeStatus]*metrics.Counter),
		latency:   make(map[string]*metrics.PrometheusHistogram),
		throttles: make(map[string]*metrics.Counter),
	}
	m.set.RegisterMetricsWriter(s.writeStateMetrics)
	return m
}

// request counts one answered request.
func (m *serverMetrics) request(route string, status int, d time.Duration) {
	key := routeStatus{route, status}
	m.mu.RLock()
	c, h := m.requests[key], m.latency[route]
	m.mu.RUnlock()
	if c == nil || h == nil {
		m.mu.Lock()
		if c = m.requests[key]; c == nil {
			c = m.set.NewCounter(fmt.Sprintf(`maru_http_requests_total{route=%q,status="%d"}`, route, status))
			m.requests[key] = c
		}
		if h = m.latency[route]; h == nil {
			h = m.set.NewPrometheusHistogramExt(fmt.Sprintf(`maru_http_request_duration_seconds{route=%q}`, route), latencyBuckets)
			m.latency[route] = h
		}
		m.mu.Unlock()
	}
	c.Inc()
	h.Update(d.Seconds())
}

// throttled counts one refusal by the named limit (a 429, or a chat
// message refused as too fast). m may be nil: metrics are off.
func (m *serverMetrics) throttled(limit string) {
	if m == nil {
		return
	}
	m.mu.RLock()
	c := m.throttles[limit]
	m.mu.RUnlock()
	if c == nil {
		m.mu.Lock()
		if c = m.throttles[limit]; c == nil {
			c = m.set.NewCounter(fmt.Sprintf(`maru_throttled_total{limit=%q}`, limit))
			m.throttles[limit] = c
		}
		m.mu.Unlock()
	}
	c.Inc()
}

// measure counts every request by route pattern and status, with its
// latency. Without metrics it is not in the chain at all.
func (s *Server) measure(next http.Handler) http.Handler {
	if s.metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
			w = sw
		}
		next.ServeHTTP(w, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK // nothing written, or a hijacked connection
		}
		s.metrics.request(routeLabel(info(r).route, r.Pattern), status, time.Since(start))
	})
}

// routeLabel names the route of a request for the metrics: the pattern of
// the application's mux when it matched one, else the outer mux's. Both
// spellings of a route (with and without its trailing slash) count as one.
func routeLabel(app, outer string) string {
	p := app
	if p == "" {
		p = outer
	}
	if p == "" || p == "/" {
		return "unmatched"
	}
	return strings.TrimSuffix(strings.TrimSuffix(p, "{$}"), "/")
}

// MetricsHandler serves the metrics in the Prometheus text format: the
// server's own, the database pools, the chat hub, and the Go runtime and
// process. It is meant for a listener of its own (-metrics-addr), never
// the public one. Without Config.Metrics it answers 404.
func (s *Server) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.metrics == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		s.metrics.set.WritePrometheus(w)
		metrics.WriteProcessMetrics(w)
	})
}

// writeStateMetrics writes what is read at scrape time rather than counted
// as it happens.
func (s *Server) writeStateMetrics(w io.Writer) {
	wr, rd := s.store.PoolStats()
	for _, p := range []struct {
		name  string
		stats sql.DBStats
	}{{"writer", wr}, {"readers", rd}} {
		l := `{pool="` + p.name + `"}`
		metrics.WriteGaugeUint64(w, "maru_db_connections_max"+l, uint64(p.stats.MaxOpenConnections))
		metrics.WriteGaugeUint64(w, "maru_db_connections_open"+l, uint64(p.stats.OpenConnections))
		metrics.WriteGaugeUint64(w, "maru_db_connections_in_use"+l, uint64(p.stats.InUse))
		metrics.WriteGaugeUint64(w, "maru_db_connections_idle"+l, uint64(p.stats.Idle))
		metrics.WriteCounterUint64(w, "maru_db_waits_total"+l, uint64(p.stats.WaitCount))
		metrics.WriteCounterFloat64(w, "maru_db_wait_seconds_total"+l, p.stats.WaitDuration.Seconds())
	}
	metrics.WriteGaugeUint64(w, "maru_hits_pending", uint64(s.store.PendingHits()))
	failing := s.store.FailingTasks()
	for _, task := range []string{store.TaskHitFlush, store.TaskCheckpoint, store.TaskMerge} {
		var v uint64
		for _, f := range failing {
			if f == task {
				v = 1
			}
		}
		metrics.WriteGaugeUint64(w, `maru_background_failing{task="`+task+`"}`, v)
	}
	hs := s.hub.Stats()
	metrics.WriteGaugeUint64(w, "maru_chat_sockets", uint64(max(hs.Sockets, 0)))
	metrics.WriteCounterUint64(w, "maru_chat_frames_delivered_total", hs.Delivered)
	metrics.WriteCounterUint64(w, "maru_chat_frames_dropped_total", hs.Dropped)
	metrics.WriteCounterUint64(w, "maru_chat_slow_sockets_total", hs.SlowSockets)
}
