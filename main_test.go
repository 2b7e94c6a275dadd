package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"maru/store"
)

// syncBuffer collects a running server's log for the test to read.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func noEnv(string) string { return "" }

// startApp runs the whole program on a free port and returns its base URL,
// a function that stops it, a function that waits for run's result, and
// the log. Extra flags follow the test's own.
func startApp(t *testing.T, dir string, extra ...string) (string, context.CancelFunc, func() error, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := new(syncBuffer)
	done := make(chan error, 1)
	go func() {
		args := append([]string{"-addr", "127.0.0.1:0", "-data", dir, "-bcrypt-cost", "4"}, extra...)
		done <- run(ctx, args, noEnv, nil, io.Discard, logs)
	}()
	wait := sync.OnceValue(func() error { return <-done })
	addrRe := regexp.MustCompile(`msg=serving addr=(\S+)`)
	// Generous: on a loaded machine under the race detector a start takes seconds.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRe.FindStringSubmatch(logs.String()); m != nil {
			t.Cleanup(func() {
				cancel()
				wait()
			})
			return "http://" + m[1], cancel, wait, logs
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before serving: %v\n%s", err, logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("server did not start:\n%s", logs)
	return "", nil, nil, nil
}

func register(t *testing.T, base, email string) {
	t.Helper()
	res, err := http.Post(base+"/user/registration/", "application/json",
		strings.NewReader(fmt.Sprintf(`{"email":%q,"password":"long enough pw"}`, email)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("register %s: %d", email, res.StatusCode)
	}
}

// A request in flight when the signal comes still completes; then run
// returns and the database is closed cleanly with the row in it.
func TestShutdownFinishesInFlightRequest(t *testing.T) {
	dir := t.TempDir()
	base, stop, done, logs := startApp(t, dir)

	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()

	// Start a registration whose body has not fully arrived yet.
	pr, pw := io.Pipe()
	type result struct {
		status int
		err    error
	}
	got := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/user/registration/", pr)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		res.Body.Close()
		got <- result{status: res.StatusCode}
	}()
	io.WriteString(pw, `{"email": "late@example.com", `)

	// The handler is now reading the body. Ask the server to stop...
	time.Sleep(100 * time.Millisecond)
	stop()
	// ...wait until it no longer accepts new connections...
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := http.Get(base + "/healthz"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server still accepting after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// ...and only then let the request finish.
	io.WriteString(pw, `"password": "long enough pw"}`)
	pw.Close()
	if r := <-got; r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("in-flight request: status %d, err %v; want 201", r.status, r.err)
	}
	if err := done(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown in the log:\n%s", logs)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "app.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.UserByEmail(context.Background(), "late@example.com"); err != nil {
		t.Fatalf("the in-flight registration was lost: %v", err)
	}
}

func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	base, _, _, _ := startApp(t, dir)
	register(t, base, "kept@example.com")

	dst := filepath.Join(t.TempDir(), "backup.db")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"backup", "-data", dir, dst}, noEnv, nil, &out, io.Discard); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if err := run(context.Background(), []string{"backup", "-data", dir, dst}, noEnv, nil, &out, io.Discard); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	st, err := store.Open(context.Background(), dst, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.UserByEmail(context.Background(), "kept@example.com"); err != nil {
		t.Fatalf("backup lacks the user: %v", err)
	}
	if err := run(context.Background(), []string{"backup", "-data", t.TempDir(), dst + "2"}, noEnv, nil, &out, io.Discard); err == nil {
		t.Fatal("backup of a missing database succeeded")
	}
}

func TestMakeAdmin(t *testing.T) {
	dir := t.TempDir()
	base, stop, done, _ := startApp(t, dir)
	register(t, base, "boss@example.com")
	stop()
	done()

	var out bytes.Buffer
	if err := run(context.Background(), []string{"make-admin", "-data", dir, "BOSS@example.com"}, noEnv, nil, &out, io.Discard); err != nil {
		t.Fatalf("make-admin: %v", err)
	}
	if err := run(context.Background(), []string{"make-admin", "-data", dir, "nobody@example.com"}, noEnv, nil, &out, io.Discard); err == nil {
		t.Fatal("make-admin of an unknown email succeeded")
	}
	st, _ := store.Open(context.Background(), filepath.Join(dir, "app.db"), store.Options{})
	defer st.Close()
	u, err := st.UserByEmail(context.Background(), "boss@example.com")
	if err != nil || !u.IsAdmin {
		t.Fatalf("user after make-admin: %+v, %v", u, err)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, noEnv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "maru ") {
		t.Fatalf("version printed %q", out.String())
	}
}

func TestFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{"APP_ADDR": ":9999", "APP_DATA": "/srv/maru", "APP_CHAT_RATE": "0", "APP_LOG_FORMAT": "json"}
	getenv := func(k string) string { return env[k] }
	c, _, err := parseFlags("serve", []string{"-addr", "127.0.0.1:1"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:1" || c.data != "/srv/maru" || c.chatRate != 0 || c.logFormat != "json" {
		t.Fatalf("config %+v: want the flag over the environment over the default", c)
	}
	c, _, _ = parseFlags("serve", nil, noEnv, io.Discard)
	if c.addr != ":8080" || c.data != "./data" || c.chatMaxLen != 2000 {
		t.Fatalf("defaults %+v", c)
	}
	bad := [][]string{{"-log-format", "xml"}, {"-chat-rate", "-1"}, {"-chat-max-len", "0"}, {"-nope"}}
	for _, args := range bad {
		if _, _, err := parseFlags("serve", args, noEnv, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	if _, _, err := parseFlags("serve", nil, func(k string) string {
		if k == "APP_CHAT_MAX_LEN" {
			return "lots"
		}
		return ""
	}, io.Discard); err == nil {
		t.Error("a malformed environment number was accepted")
	}
	var usage bytes.Buffer
	if _, _, err := parseFlags("serve", []string{"-h"}, noEnv, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"-addr", "APP_ADDR", "-data", "APP_DATA", "-base-url", "APP_BASE_URL", "-log-format", "APP_LOG_FORMAT", "APP_CHAT_RATE"} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("-h does not mention %s", want)
		}
	}
}

func TestAddressInUse(t *testing.T) {
	dir := t.TempDir()
	base, _, _, _ := startApp(t, dir)
	addr := strings.TrimPrefix(base, "http://")
	err := run(context.Background(), []string{"-addr", addr, "-data", t.TempDir()}, noEnv, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("second server on %s: %v", addr, err)
	}
}

func TestSetPassword(t *testing.T) {
	dir := t.TempDir()
	base, stop, done, _ := startApp(t, dir)
	register(t, base, "forgot@example.com")
	stop()
	done()

	setPw := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"set-password", "-data", dir}, args...), noEnv, strings.NewReader(stdin), &out, io.Discard)
		return out.String(), err
	}
	if _, err := setPw("", "forgot@example.com"); err == nil {
		t.Fatal("set-password without a password succeeded")
	}
	if _, err := setPw("short\n", "forgot@example.com"); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Fatalf("a short password: %v", err)
	}
	if _, err := setPw("a good new password\n", "nobody@example.com"); err == nil {
		t.Fatal("set-password of an unknown email succeeded")
	}
	if _, err := setPw("a good new password\r\n", "forgot@example.com"); err != nil {
		t.Fatal(err)
	}
	out, err := setPw("", "-generate", "forgot@example.com")
	if err != nil {
		t.Fatal(err)
	}
	_, generated, ok := strings.Cut(strings.Split(out, "\n")[0], ": ")
	if !ok || len(generated) != 16 {
		t.Fatalf("generated password not printed: %q", out)
	}
	st, _ := store.Open(context.Background(), filepath.Join(dir, "app.db"), store.Options{})
	defer st.Close()
	ctx := context.Background()
	if _, err := st.Authenticate(ctx, "forgot@example.com", "a good new password"); err == nil {
		t.Fatal("the password set before -generate still works")
	}
	if _, err := st.Authenticate(ctx, "forgot@example.com", generated); err != nil {
		t.Fatalf("the generated password: %v", err)
	}
	log, _ := st.AuditLog(ctx, 0, 10)
	if len(log) != 2 || log[0].Actor != "operator" || log[0].Action != "user.set_password" {
		t.Fatalf("audit log %+v", log)
	}
}

// The server's collector defaults apply only where the environment names
// none: GOGC and GOMEMLIMIT, as Go reads them, win.
func TestTuneGC(t *testing.T) {
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
	for _, c := range []struct {
		env     map[string]string
		percent int
		limit   int64
	}{
		{env: nil, percent: defaultGCPercent, limit: defaultMemoryLimit},
		{env: map[string]string{"GOGC": "100"}, percent: 100, limit: defaultMemoryLimit},
		{env: map[string]string{"GOMEMLIMIT": "120MiB"}, percent: defaultGCPercent, limit: math.MaxInt64},
		{env: map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, percent: 100, limit: math.MaxInt64},
	} {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		tuneGC(func(k string) string { return c.env[k] })
		if got := debug.SetGCPercent(100); got != c.percent {
			t.Errorf("env %v: GC percent %d, want %d", c.env, got, c.percent)
		}
		if got := debug.SetMemoryLimit(-1); got != c.limit {
			t.Errorf("env %v: memory limit %d, want %d", c.env, got, c.limit)
		}
	}
}
