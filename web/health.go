package web

import (
	"context"
	"net/http"
	"time"
)

// handleHealth answers 200 when the database answers and the background
// work (hit flush, WAL checkpoint) is succeeding; 503 otherwise, naming
// the failing tasks but never their errors, which go to the log.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Cache-Control", "no-store")
	schema, err := s.store.SchemaVersion(ctx)
	if err != nil {
		s.log.Error("health check", "err", err)
		s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	if failing := s.store.FailingTasks(); len(failing) > 0 {
		s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]any{
			"status": "failing", "failing": failing, "version": s.cfg.Version, "schema": schema,
		})
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok", "version": s.cfg.Version, "schema": schema})
}
