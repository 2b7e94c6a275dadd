package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tests that need the real program as its own process (to kill it, to
// measure its memory) build it with buildApp and start it with
// startBinary; the rest run it in process through run (main_test.go).

// buildApp builds this tree's binary into a temp dir, as a release is
// built (no cgo), and returns its path. MARU_TEST_BIN, when set, is used
// instead: a binary already built, say of an older version to compare.
func buildApp(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("MARU_TEST_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "app")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// appProcess is a running binary.
type appProcess struct {
	cmd  *exec.Cmd
	addr string      // host:port it serves on
	logs *syncBuffer // what it logged
	wait func() error
}

// startBinary runs bin on the data directory data with the test's usual
// flags (a free port, the cheapest password hashing) and then extra, with
// env added to the environment; it returns once the server listens. The
// process is killed when the test ends, if it is still running.
func startBinary(t *testing.T, bin, data string, env []string, extra ...string) *appProcess {
	t.Helper()
	logs := new(syncBuffer)
	args := append([]string{"-addr", "127.0.0.1:0", "-data", data, "-bcrypt-cost", "4"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logs
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &appProcess{cmd: cmd, logs: logs, wait: sync.OnceValue(cmd.Wait)}
	t.Cleanup(func() {
		cmd.Process.Kill()
		p.wait()
	})
	p.addr = waitForAddr(t, logs)
	return p
}

// kill ends the process at once, as a power cut would (SIGKILL: nothing
// is flushed or closed), and waits for it to be gone.
func (p *appProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait()
}

var servingRe = regexp.MustCompile(`msg=serving addr=(\S+)`)

func waitForAddr(t *testing.T, logs *syncBuffer) string {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if m := servingRe.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("server did not start:\n%s", logs)
	return ""
}
