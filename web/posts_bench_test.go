package web

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"maru/store/storetest"
)

// boardServer serves the shared 100,000-post database, built once per run,
// through the whole middleware chain, logging into io.Discard.
func boardServer(b *testing.B) *testEnv {
	b.Helper()
	return startEnv(b, envOptions{path: storetest.SharedBoard(b), quiet: true})
}

// getParallel requests url from parallel clients over keep-alive
// connections and checks each answer's status and size.
func getParallel(b *testing.B, url string, wantLen int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || int(n) != wantLen {
				b.Errorf("status %d, %d bytes; want 200, %d", res.StatusCode, n, wantLen)
				return
			}
		}
	})
}

// BenchmarkListHTTP serves page 1 of the list over real HTTP, beside a
// handler that writes the same bytes from memory; the ratio of their
// ns/op is what the list costs on top of HTTP itself.
func BenchmarkListHTTP(b *testing.B) {
	hs := boardServer(b).http
	res, err := http.Get(hs.URL + "/api/post/")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`"tags":[{"name":"`)) {
		b.Fatalf("list answered %d: %.200s", res.StatusCode, body)
	}
	header := res.Header.Clone()
	mem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range header {
			if k != "Date" {
				h[k] = v
			}
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer mem.Close()

	b.Run("memory", func(b *testing.B) { getParallel(b, mem.URL+"/api/post/", len(body)) })
	b.Run("maru", func(b *testing.B) { getParallel(b, hs.URL+"/api/post/", len(body)) })
}

// BenchmarkPostDetailParallel views posts through the handler chain, each
// view counting a hit, without the network in between.
func BenchmarkPostDetailParallel(b *testing.B) {
	srv := boardServer(b).server
	b.RunParallel(func(pb *testing.PB) {
		id := 1
		for pb.Next() {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, httptest.NewRequest("GET", "/api/post/detail/"+strconv.Itoa(id)+"/", nil))
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
			id = (id+7919)%100_000 + 1
		}
	})
}

// BenchmarkPostDetailHTTP does the same over real HTTP.
func BenchmarkPostDetailHTTP(b *testing.B) {
	hs := boardServer(b).http
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		id := 1
		for pb.Next() {
			res, err := client.Get(hs.URL + "/api/post/detail/" + strconv.Itoa(id) + "/")
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
			id = (id+7919)%100_000 + 1
		}
	})
}
