package web

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fifty wrong passwords sent at once for one account get no more than the
// five guesses the throttle allows: each attempt is counted before its
// password is checked, not after.
func TestParallelLoginsGetFiveGuesses(t *testing.T) {
	e := newTestEnv(t)
	e.register("victim@example.com")
	before := e.store.PasswordHashes()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 50 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"email":"victim@example.com","password":"guess number %d"}`, i)
			req, _ := http.NewRequest("POST", e.http.URL+"/user/login/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			mu.Lock()
			statuses[res.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[http.StatusBadRequest] > 5 || statuses[http.StatusBadRequest]+statuses[http.StatusTooManyRequests] != 50 {
		t.Fatalf("answers %v: want at most 5 wrong-password verdicts and 429 for the rest", statuses)
	}
	if hashes := e.store.PasswordHashes() - before; hashes > 5 {
		t.Fatalf("%d passwords compared, want at most 5", hashes)
	}
}

// An email longer than any account can have is refused before it costs a
// throttle entry or a password comparison.
func TestLongLoginEmailRefusedFirst(t *testing.T) {
	e := newTestEnv(t)
	before := e.store.PasswordHashes()
	long := strings.Repeat("a", 100_000) + "@example.com"
	e.do("POST", "/user/login/", "", map[string]string{"email": long, "password": "whatever pw"}).
		wantStatus(http.StatusBadRequest).wantBody(`"email":["Ensure this field has no more than 254 characters."]`)
	if n := e.store.PasswordHashes() - before; n != 0 {
		t.Fatalf("%d passwords compared for an impossible email, want 0", n)
	}
	if n := len(e.server.logins.account.keys) + len(e.server.logins.addr.keys); n != 0 {
		t.Fatalf("the throttle holds %d entries for an impossible email, want 0", n)
	}
}

// Filling the table with other keys never resets a key that is blocked:
// the victim stays blocked however many keys an attacker makes up.
func TestThrottleFullTableKeepsVictimBlocked(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newFailureLimiter(5, time.Minute, func() time.Time { return now })
	l.maxKeys = 100
	for range 5 {
		l.take("victim@example.com")
	}
	for i := range 10 * l.maxKeys {
		l.take(fmt.Sprint("filler", i, "@example.com"))
		if i == 5*l.maxKeys {
			now = now.Add(2 * time.Second) // let a prune happen, with every window live
		}
	}
	if len(l.keys) > l.maxKeys {
		t.Fatalf("table holds %d keys, want at most %d", len(l.keys), l.maxKeys)
	}
	if d := l.take("victim@example.com"); d <= 0 {
		t.Fatal("the victim may guess again after the table filled up")
	}
	// A key that arrived while the table was full and was counted in a
	// shared bucket keeps its count when a place frees up.
	for range 5 {
		l.take("late@example.com")
	}
	now = now.Add(30 * time.Second)
	clear(l.keys)
	if d := l.take("late@example.com"); d <= 0 {
		t.Fatal("a key counted while the table was full lost its count on moving in")
	}
}

// The throttle's memory does not grow with the length of the keys: they
// are kept as fixed-size hashes.
func TestThrottleMemoryIndependentOfKeyLength(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	l := newFailureLimiter(5, time.Minute, time.Now)
	pad := strings.Repeat("x", 1000)
	before := heap()
	for i := range 10_000 {
		l.take(fmt.Sprint(i, pad))
	}
	grown := int64(heap()) - int64(before)
	runtime.KeepAlive(l)
	// Stored as strings, the keys alone would be 10 MB.
	if grown > 2<<20 {
		t.Fatalf("10,000 keys of 1 kB grew the heap by %d bytes, want under 2 MiB", grown)
	}
}

func TestAddrKeyGroupsIPv6By64(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"not an address", "not an address"},
	} {
		if got := addrKey(c.in); got != c.want {
			t.Errorf("addrKey(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
