package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// scrape reads the metrics as Prometheus would.
func (e *testEnv) scrape() (int, string) {
	rec := httptest.NewRecorder()
	e.server.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Code, rec.Body.String()
}

func TestMetricsAreOffByDefault(t *testing.T) {
	e := newTestEnv(t)
	if code, _ := e.scrape(); code != http.StatusNotFound {
		t.Errorf("metrics without Config.Metrics: status %d, want 404", code)
	}
	e.do("GET", "/metrics", "", nil).wantStatus(http.StatusNotFound)
}

func TestMetricsCountRoutesStatusesAndLimits(t *testing.T) {
	e := newTestEnvWith(t, Config{Metrics: true, LoginFailures: 1, PostRate: 3}) // one post, then 429
	u := e.register("a@example.com")
	room := e.createRoom(u, "lobby")
	sock := e.dialChat(u, room.ID)
	sock.nextOf("chat.presence")
	for _, id := range []string{"1", "2", "3"} {
		e.do("GET", "/api/post/detail/"+id+"/", "", nil).wantStatus(http.StatusNotFound)
	}
	e.do("GET", "/api/post", "", nil).wantStatus(http.StatusOK)
	e.do("GET", "/api/post/", "", nil).wantStatus(http.StatusOK)
	e.do("GET", "/no/such/thing", "", nil).wantStatus(http.StatusNotFound)
	e.do("GET", "/healthz", "", nil).wantStatus(http.StatusOK)
	for range 2 { // the second is refused by the login limit
		e.do("POST", "/user/login/", "", map[string]string{"email": u.Email, "password": "wrong password"})
	}
	for _, want := range []int{http.StatusCreated, http.StatusTooManyRequests} {
		e.do("POST", "/api/post/write", u.Access, map[string]any{"title": "t", "content": "c"}).wantStatus(want)
	}
	code, body := e.scrape()
	if code != http.StatusOK {
		t.Fatalf("metrics: status %d", code)
	}
	for _, want := range []string{
		`maru_http_requests_total{route="GET /api/post/detail/{id}",status="404"} 3`,
		`maru_http_requests_total{route="GET /api/post",status="200"} 2`,
		`maru_http_requests_total{route="unmatched",status="404"} 1`,
		`maru_http_requests_total{route="GET /healthz",status="200"} 1`,
		`maru_http_requests_total{route="POST /user/login",status="429"} 1`,
		`maru_http_request_duration_seconds_bucket{route="GET /api/post",le="+Inf"} 2`,
		`maru_http_request_duration_seconds_count{route="GET /api/post/detail/{id}"} 3`,
		`maru_throttled_total{limit="login"} 1`,
		`maru_throttled_total{limit="POST /api/post/write"} 1`,
		`maru_chat_sockets 1`,
		`maru_chat_frames_delivered_total `,
		`maru_chat_frames_dropped_total 0`,
		`maru_db_connections_max{pool="writer"} 1`,
		`maru_db_connections_max{pool="readers"} 4`,
		`maru_hits_pending 0`,
		`maru_background_failing{task="hit_flush"} 0`,
		`maru_background_failing{task="index_merge"} 0`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Labels come from patterns only: no raw path, nothing a client chose.
	if strings.Contains(body, "detail/1") || strings.Contains(body, "no/such") {
		t.Errorf("a raw path reached the metrics:\n%s", body)
	}
	sock.c.CloseNow()
}

func TestHealthzTurnsFailingWhileHitFlushFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	e := newTestEnvFull(t, path, Config{Metrics: true})
	var h struct {
		Status  string
		Schema  int
		Version string
		Failing []string
	}
	e.do("GET", "/healthz", "", nil).wantStatus(http.StatusOK).decode(&h)
	if h.Status != "ok" || h.Schema < 1 || h.Version == "" {
		t.Fatalf("healthz %+v: want ok with the schema version", h)
	}
	u := e.register("a@example.com")
	var post struct{ ID int64 }
	e.do("POST", "/api/post/write", u.Access, map[string]any{"title": "t", "content": "c"}).wantStatus(http.StatusCreated).decode(&post)

	// A trigger on the same file makes every hit update fail, as a full
	// or broken disk would.
	// busy_timeout: the server's writer and checkpointer share the file.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER no_hits BEFORE INSERT ON post_hits BEGIN SELECT RAISE(ABORT, 'no room'); END`); err != nil {
		t.Fatal(err)
	}
	e.do("GET", fmt.Sprintf("/api/post/detail/%d/", post.ID), "", nil).wantStatus(http.StatusOK)
	if err := e.store.FlushHits(context.Background()); err == nil {
		t.Fatal("flush succeeded despite the trigger")
	}
	e.do("GET", "/healthz", "", nil).wantStatus(http.StatusServiceUnavailable).decode(&h)
	if h.Status != "failing" || len(h.Failing) != 1 || h.Failing[0] != "hit_flush" {
		t.Errorf("healthz %+v: want failing hit_flush", h)
	}
	if !regexp.MustCompile(`level=ERROR msg="background task failing" task=hit_flush err=".*no room`).MatchString(e.logs.String()) {
		t.Errorf("the failure is not in the log:\n%s", e.logs)
	}
	_, body := e.scrape()
	for _, want := range []string{`maru_background_failing{task="hit_flush"} 1`, `maru_hits_pending 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	if _, err := db.Exec(`DROP TRIGGER no_hits`); err != nil {
		t.Fatal(err)
	}
	if err := e.store.FlushHits(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/healthz", "", nil).wantStatus(http.StatusOK)
	if !strings.Contains(e.logs.String(), `msg="background task working again" task=hit_flush`) {
		t.Errorf("the recovery is not in the log")
	}
}
