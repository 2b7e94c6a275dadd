package web

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maru/store/storetest"
)

// The mixed profile of a live board: 70 % list pages 1–5, 20 % post
// details, 5 % searches of one word, 5 % new posts, from mixedClients
// keep-alive clients over real HTTP.
const mixedClients = 32

var mixedWords = strings.Fields("garden coffee bicycle library kitchen window market river mountain weather")

// mixedBody is the content of every post the benchmark writes, a short
// paragraph like most posts.
var mixedBody = strings.Repeat("A few words about the club's next meeting and what to bring. ", 6)

// mixedRequest picks one request of the mix.
func mixedRequest(rng *rand.Rand, base, token string, n int) *http.Request {
	var req *http.Request
	switch r := rng.IntN(100); {
	case r < 70:
		p := 1 + rng.IntN(5)
		u := base + "/api/post/"
		if p > 1 {
			u += "?page=" + strconv.Itoa(p)
		}
		req, _ = http.NewRequest("GET", u, nil)
	case r < 90:
		req, _ = http.NewRequest("GET", base+"/api/post/detail/"+strconv.Itoa(1+rng.IntN(storetest.BoardPosts))+"/", nil)
	case r < 95:
		req, _ = http.NewRequest("GET", base+"/api/post/?search="+mixedWords[rng.IntN(len(mixedWords))], nil)
	default:
		req = mixedWrite(base, token, n)
	}
	return req
}

// mixedWrite is a request to write post number n.
func mixedWrite(base, token string, n int) *http.Request {
	body := fmt.Sprintf(`{"title":"mixed %d","content":%q,"tags":[{"name":"bench"}]}`, n, mixedBody)
	req, _ := http.NewRequest("POST", base+"/api/post/write", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// memoryBoard answers every request of the mix with bytes recorded from
// maru once, from memory: what serving the mix costs with no board behind
// it, on the same HTTP stack.
type memoryBoard struct {
	list, detail, search, write []byte
	listHeader                  http.Header
}

func recordBoard(b *testing.B, base, token string) *memoryBoard {
	b.Helper()
	get := func(req *http.Request, want int) ([]byte, http.Header) {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			b.Fatalf("%s %s: %d %.200s", req.Method, req.URL, res.StatusCode, body)
		}
		return body, res.Header
	}
	var m memoryBoard
	req, _ := http.NewRequest("GET", base+"/api/post/?page=2", nil)
	m.list, m.listHeader = get(req, 200)
	req, _ = http.NewRequest("GET", base+"/api/post/detail/7/", nil)
	m.detail, _ = get(req, 200)
	req, _ = http.NewRequest("GET", base+"/api/post/?search=garden", nil)
	m.search, _ = get(req, 200)
	m.write, _ = get(mixedWrite(base, token, 0), http.StatusCreated)
	return &m
}

func (m *memoryBoard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, status := m.list, http.StatusOK
	switch {
	case r.Method == "POST":
		io.Copy(io.Discard, r.Body)
		body, status = m.write, http.StatusCreated
	case strings.HasPrefix(r.URL.Path, "/api/post/detail/"):
		body = m.detail
	case r.URL.Query().Has("search"):
		body = m.search
	}
	h := w.Header()
	for _, k := range []string{"Content-Type", "X-Total-Count", "Link", "X-Content-Type-Options"} {
		if v := m.listHeader.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// BenchmarkMixedHTTP drives the mixed profile over real HTTP against maru
// on the shared 100,000-post board, and against memoryBoard answering the
// same bytes from memory, and reports each one's rate and p99 latency.
// One op is one request.
func BenchmarkMixedHTTP(b *testing.B) {
	// Writes are 5 % of a load no real user could make: no per-user limit.
	env := startEnv(b, envOptions{path: storetest.SharedBoard(b), quiet: true, cfg: Config{PostRate: -1}})
	token := env.register("mixed@example.com").Access
	hs := env.http
	mem := httptest.NewServer(recordBoard(b, hs.URL, token))
	defer mem.Close()

	b.Run("memory", func(b *testing.B) { driveMixed(b, mem.URL, token) })
	b.Run("maru", func(b *testing.B) { driveMixed(b, hs.URL, token) })
}

// driveMixed sends b.N requests of the mix from mixedClients clients and
// reports requests per second and the 99th percentile latency.
func driveMixed(b *testing.B, base, token string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: mixedClients}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	lat := make([][]time.Duration, mixedClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range mixedClients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				req := mixedRequest(rng, base, token, int(n))
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat[c] = append(lat[c], time.Since(t0))
				if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
					b.Errorf("%s %s: status %d", req.Method, req.URL, res.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}
