package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAttackSlowListReaders replays an attack on the real binary and
// reports the server's peak memory: 100 posts of 50,000 '<' (each escapes
// to 6 bytes of JSON, 30 MB a page), then 40 anonymous connections that
// ask for ?page_size=100 and never read the answer. It is not part of the
// normal run (it takes a minute and wants the machine to itself):
//
//	MARU_ATTACK=1 go test -run TestAttackSlowListReaders -v .
//
// MARU_TEST_BIN runs an already built binary instead of building this
// tree (to measure an older version); MARU_ATTACK_LIMIT_MB is the peak RSS
// that fails the test (150 by default).
func TestAttackSlowListReaders(t *testing.T) {
	if os.Getenv("MARU_ATTACK") == "" {
		t.Skip("set MARU_ATTACK=1 to run the attack replay")
	}
	const (
		posts    = 100
		readers  = 40
		postSize = 50_000
	)
	limitMB := 150
	if v := os.Getenv("MARU_ATTACK_LIMIT_MB"); v != "" {
		limitMB, _ = strconv.Atoi(v)
	}
	dir := t.TempDir()
	bin := buildApp(t)
	// A short write deadline, so that the watch below sees cut-off
	// clients leave and waiting ones come in; no limit on writing posts,
	// so that one account can seed the board. An older binary ignores both.
	app := startBinary(t, bin, filepath.Join(dir, "data"), []string{"APP_WRITE_TIMEOUT=10s", "APP_POST_RATE=0"})
	addr := app.addr
	base := "http://" + addr

	access := loginToken(t, base, "attacker@example.com")
	content := strings.Repeat("<", postSize)
	for i := range posts {
		body, _ := json.Marshal(map[string]string{"title": fmt.Sprint("post ", i), "content": content})
		req, _ := http.NewRequest("POST", base+"/api/post/write", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+access)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("post %d: status %d", i, res.StatusCode)
		}
	}
	pid := app.cmd.Process.Pid
	t.Logf("after seeding: VmRSS %d kB, VmHWM %d kB", procStatus(t, pid, "VmRSS"), procStatus(t, pid, "VmHWM"))

	conns := make([]net.Conn, readers)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /api/post/?page_size=%d HTTP/1.1\r\nHost: %s\r\n\r\n", posts, addr)
		conns[i] = c
	}
	// Watch the server for a while without reading anything.
	watch := 20 * time.Second
	if v := os.Getenv("MARU_ATTACK_WATCH"); v != "" {
		watch, _ = time.ParseDuration(v)
	}
	peak := 0
	for end := time.Now().Add(watch); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		peak = max(peak, procStatus(t, pid, "VmRSS"))
	}
	hwm := procStatus(t, pid, "VmHWM")
	t.Logf("%d readers that never read, watched %s: peak VmRSS %d kB, VmHWM %.1f MB", readers, watch, peak, float64(hwm)/1024)

	// Now read: a connection the server cut off ends early; one it kept
	// open delivers the whole page.
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcome := map[string]int{}
	for _, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			st, n := readOutcome(c)
			mu.Lock()
			outcome[fmt.Sprintf("%s after %d bytes", st, n)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("outcomes: %v", outcome)
	if hwm > limitMB*1024 {
		t.Errorf("peak RSS %.1f MB, want at most %d MB", float64(hwm)/1024, limitMB)
	}
}

func loginToken(t *testing.T, base, email string) string {
	t.Helper()
	creds := fmt.Sprintf(`{"email":%q,"password":"long enough pw"}`, email)
	if res, err := http.Post(base+"/user/registration/", "application/json", strings.NewReader(creds)); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	res, err := http.Post(base+"/user/login/", "application/json", strings.NewReader(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Access string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Access == "" {
		t.Fatalf("login: status %d, %v", res.StatusCode, err)
	}
	return body.Access
}

// procStatus reads a kB figure such as VmHWM from /proc/PID/status.
func procStatus(t *testing.T, pid int, key string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}

// readOutcome reads c to its end and says how it ended: the status line
// it got, and whether the server closed the connection or it stayed open.
func readOutcome(c net.Conn) (string, int) {
	br := bufio.NewReader(c)
	line, _ := br.ReadString('\n')
	status := strings.TrimSpace(line)
	n := len(line)
	buf := make([]byte, 64<<10)
	for {
		k, err := br.Read(buf)
		n += k
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return status + ", still open", n
			}
			return status + ", closed", n
		}
	}
}
