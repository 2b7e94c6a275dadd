package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"maru/store"
)

// The chat benchmarks run real sockets over loopback, clients in the same
// process (so on the same cores) as the server:
//
//	go test -run '^$' -bench 'BenchmarkChat' -benchtime 2000x ./web/
//
// BenchmarkChatFanout/bare is a plain coder/websocket broadcast (no
// database, no auth, the library's chat example) measured in the same run,
// as the yardstick for BenchmarkChatFanout/maru.

const (
	fanoutSockets = 500
	fanoutSenders = 10
	fanoutWindow  = 16 // messages a sender may have not yet delivered to all
)

// benchServer is a maru server for benchmarks, with n users and their tokens.
type benchServer struct {
	url    string
	tokens []string
	room   int64
	close  func()
}

func newBenchServer(b *testing.B, users int, cfg Config) *benchServer {
	b.Helper()
	ctx := context.Background()
	e := startEnv(b, envOptions{cfg: cfg, quiet: true})
	st, srv := e.store, e.server
	bs := &benchServer{}
	for i := range users {
		u, err := st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("u%d@example.com", i), Password: "correct horse"})
		if err != nil {
			b.Fatal(err)
		}
		tok, _, err := srv.tokens.issue(tokenAccess, u.ID)
		if err != nil {
			b.Fatal(err)
		}
		bs.tokens = append(bs.tokens, tok)
	}
	room, err := st.CreateRoom(ctx, 1, "bench")
	if err != nil {
		b.Fatal(err)
	}
	bs.url = "ws" + strings.TrimPrefix(e.http.URL, "http") + fmt.Sprintf("/ws/chat/%d/chat/", room.ID)
	bs.room = room.ID
	bs.close = e.close
	return bs
}

// newBareServer is the yardstick: coder/websocket's chat example, which
// broadcasts every frame it reads to every socket, each with a bounded
// queue, a writer goroutine and a write timeout.
func newBareServer(b *testing.B, sockets int) *benchServer {
	var mu sync.Mutex
	subs := map[chan []byte]struct{}{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ch := make(chan []byte, 256)
		mu.Lock()
		subs[ch] = struct{}{}
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(subs, ch)
			mu.Unlock()
		}()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			for {
				select {
				case f := <-ch:
					wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
					err := c.Write(wctx, websocket.MessageText, f)
					wcancel()
					if err != nil {
						c.CloseNow()
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		for {
			_, f, err := c.Read(ctx)
			if err != nil {
				return
			}
			mu.Lock()
			for s := range subs {
				select {
				case s <- f:
				default:
				}
			}
			mu.Unlock()
		}
	}))
	return &benchServer{url: "ws" + strings.TrimPrefix(hs.URL, "http"), tokens: make([]string, sockets), close: hs.Close}
}

// readFrame reads the next message into buf and returns its bytes, valid
// until the next call.
func readFrame(c *websocket.Conn, buf *bytes.Buffer) ([]byte, error) {
	_, r, err := c.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readErrs records why a benchmark client's socket ended early.
var readErrs sync.Map

// benchClients dials one socket per token and starts a reader on each,
// which calls onFrame for every frame; frames before a marker message sent
// once all are connected (presence, joins) are skipped.
func benchClients(b *testing.B, bs *benchServer, onFrame func(client int, frame []byte)) (conns []*websocket.Conn, stop func()) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var ready, done sync.WaitGroup
	for i, tok := range bs.tokens {
		h := http.Header{}
		if tok != "" {
			h.Set("Authorization", "Bearer "+tok)
		}
		dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
		c, _, err := websocket.Dial(dctx, bs.url, &websocket.DialOptions{HTTPHeader: h})
		dcancel()
		if err != nil {
			b.Fatalf("dial %d: %v", i, err)
		}
		c.SetReadLimit(1 << 20)
		conns = append(conns, c)
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			warm := true
			// The clients share the cores with the server, so they read
			// as cheaply as the library allows: into one reused buffer,
			// with a context that has no deadline (stop ends the reads by
			// closing the sockets).
			var buf bytes.Buffer
			for {
				f, err := readFrame(c, &buf)
				if err != nil {
					if warm {
						ready.Done()
					}
					if ctx.Err() == nil {
						readErrs.Store(i, err.Error())
					}
					return
				}
				if warm {
					if bytes.Contains(f, []byte(`"message":"ready"`)) {
						warm = false
						ready.Done()
					}
					continue
				}
				onFrame(i, f)
			}
		}()
	}
	// A socket's subscription starts a moment after its handshake, so the
	// marker is repeated until every reader has seen it.
	warmed := make(chan struct{})
	go func() { ready.Wait(); close(warmed) }()
	for warm := true; warm; {
		if err := conns[len(conns)-1].Write(ctx, websocket.MessageText, []byte(`{"type":"chat.message","message":"ready"}`)); err != nil {
			b.Fatal(err)
		}
		select {
		case <-warmed:
			warm = false
		case <-time.After(200 * time.Millisecond):
		}
	}
	return conns, func() {
		cancel()
		for _, c := range conns {
			c.CloseNow()
		}
		done.Wait()
	}
}

// BenchmarkChatFanout: one room of 500 sockets, 10 of them sending as fast
// as the room takes it, every message delivered to every socket. One op is
// one message sent.
//
// Flow control is end to end: a sender may have fanoutWindow messages that
// have not yet reached every socket. Without it a sender outruns the
// slowest readers, whose queues then overflow and get them dropped — the
// server's defence against slow clients, which is not what is measured here.
func BenchmarkChatFanout(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchFanout(b, newBareServer(b, fanoutSockets)) })
	b.Run("maru", func(b *testing.B) {
		// The default queue: the 500 joins of the warm-up reach every early
		// socket as a burst, which its writer drains as they come.
		benchFanout(b, newBenchServer(b, fanoutSockets, Config{ChatRate: -1}))
	})
}

func benchFanout(b *testing.B, bs *benchServer) {
	defer bs.close()
	perSender := max(b.N/fanoutSenders, 1)
	total := perSender * fanoutSenders
	windows := make([]chan struct{}, fanoutSenders)
	for i := range windows {
		windows[i] = make(chan struct{}, fanoutWindow)
	}
	// delivered[s][n] counts the sockets that have message n of sender s.
	delivered := make([][]atomic.Int32, fanoutSenders)
	for i := range delivered {
		delivered[i] = make([]atomic.Int32, perSender)
	}
	mark := []byte(`"message":"s`)
	counts := make([]int, fanoutSockets)
	var all sync.WaitGroup
	all.Add(fanoutSockets)
	conns, stop := benchClients(b, bs, func(client int, f []byte) {
		i := bytes.Index(f, mark)
		if i < 0 {
			return
		}
		var s, n int
		if _, err := fmt.Sscanf(string(f[i+len(mark):]), "%d:%d", &s, &n); err != nil || s >= fanoutSenders || n >= perSender {
			return
		}
		if delivered[s][n].Add(1) == fanoutSockets {
			<-windows[s]
		}
		if counts[client]++; counts[client] == total {
			all.Done()
		}
	})
	defer stop()

	b.ResetTimer()
	start := time.Now()
	for s := range fanoutSenders {
		go func() {
			for n := range perSender {
				windows[s] <- struct{}{}
				msg := fmt.Appendf(nil, `{"type":"chat.message","message":"s%d:%d the quick brown fox"}`, s, n)
				if err := conns[s].Write(context.Background(), websocket.MessageText, msg); err != nil {
					return
				}
			}
		}()
	}
	finished := make(chan struct{})
	go func() { all.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(time.Duration(total)*10*time.Millisecond + 30*time.Second):
		short := 0
		for _, n := range counts {
			if n < total {
				short++
			}
		}
		hist := map[int32]int{}
		for si := range delivered {
			for n := range delivered[si] {
				hist[delivered[si][n].Load()]++
			}
		}
		b.Logf("messages by number of sockets reached: %v", hist)
		var sample []string
		readErrs.Range(func(k, v any) bool { sample = append(sample, fmt.Sprint(k, ": ", v)); return len(sample) < 5 })
		b.Fatalf("%d of %d sockets did not get all %d messages; read errors: %v", short, fanoutSockets, total, sample)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total*fanoutSockets)/elapsed.Seconds(), "delivered/s")
}

// BenchmarkChatLatency: 500 sockets, 4 senders at a steady 80 messages a
// second in all, so 40,000 frames delivered a second; it reports the
// percentiles of the time from a send to each socket's receipt.
func BenchmarkChatLatency(b *testing.B) {
	const senders, perSecond = 4, 80
	bs := newBenchServer(b, fanoutSockets, Config{ChatRate: -1})
	defer bs.close()
	lat := make([][]time.Duration, fanoutSockets)
	var all sync.WaitGroup
	all.Add(fanoutSockets)
	mark := []byte(`"message":"t`)
	conns, stop := benchClients(b, bs, func(client int, f []byte) {
		i := bytes.Index(f, mark)
		if i < 0 {
			return
		}
		rest := f[i+len(mark):]
		ns, err := strconv.ParseInt(string(rest[:bytes.IndexByte(rest, '"')]), 10, 64)
		if err != nil {
			return
		}
		lat[client] = append(lat[client], time.Duration(time.Now().UnixNano()-ns))
		if len(lat[client]) == b.N {
			all.Done()
		}
	})
	defer stop()
	b.ResetTimer()
	tick := time.NewTicker(time.Second / perSecond)
	for n := range b.N {
		<-tick.C
		msg := fmt.Appendf(nil, `{"type":"chat.message","message":"t%d"}`, time.Now().UnixNano())
		if err := conns[n%senders].Write(context.Background(), websocket.MessageText, msg); err != nil {
			b.Fatal(err)
		}
	}
	tick.Stop()
	all.Wait()
	b.StopTimer()
	var every []time.Duration
	for _, l := range lat {
		every = append(every, l...)
	}
	slices.Sort(every)
	pct := func(p float64) float64 { return float64(every[int(p*float64(len(every)-1))]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// BenchmarkChatIdleSockets opens 1,000 sockets on a maru server running
// in a child process (this test binary, re-run as TestChatIdleServer) and
// reports that process's resident memory, so the clients' memory is not
// counted.
func BenchmarkChatIdleSockets(b *testing.B) {
	const sockets = 1000
	for range b.N {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChatIdleServer$")
		cmd.Env = append(os.Environ(), "MARU_IDLE_SERVER="+b.TempDir())
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var url, token string
		if _, err := fmt.Fscan(bufio.NewReader(stdout), &url, &token); err != nil {
			b.Fatalf("child: %v", err)
		}
		var conns []*websocket.Conn
		for i := range sockets {
			c, _, err := websocket.Dial(context.Background(), url+"?token="+token, nil)
			if err != nil {
				b.Fatalf("dial %d: %v", i, err)
			}
			c.SetReadLimit(1 << 20)
			// Read and drop frames, which also answers pings. CloseRead
			// would close the socket at the first data frame (the
			// presence list), and leave nothing to measure.
			go func() {
				for {
					if _, _, err := c.Read(context.Background()); err != nil {
						return
					}
				}
			}()
			conns = append(conns, c)
		}
		time.Sleep(2 * time.Second)
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				b.ReportMetric(kb/1024, "server-RSS-MB")
			}
		}
		for _, c := range conns {
			c.CloseNow()
		}
		stdin.Close()
		cmd.Wait()
	}
}

// TestChatIdleServer is the child process of BenchmarkChatIdleSockets; it
// does nothing in a normal test run.
func TestChatIdleServer(t *testing.T) {
	dir := os.Getenv("MARU_IDLE_SERVER")
	if dir == "" {
		t.Skip("only run as BenchmarkChatIdleSockets' server")
	}
	ctx := context.Background()
	// One account holds every socket: no limit per user.
	e := startEnv(t, envOptions{path: filepath.Join(dir, "app.db"), quiet: true, cfg: Config{ChatSockets: -1}})
	st, srv := e.store, e.server
	u, err := st.CreateUser(ctx, store.NewUser{Email: "idle@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := srv.tokens.issue(tokenAccess, u.ID)
	room, _ := st.CreateRoom(ctx, u.ID, "idle")
	fmt.Printf("%s %s\n", "ws"+strings.TrimPrefix(e.http.URL, "http")+fmt.Sprintf("/ws/chat/%d/chat/", room.ID), tok)
	os.Stdin.Read(make([]byte, 1)) // until the benchmark closes stdin
	e.close()
}
