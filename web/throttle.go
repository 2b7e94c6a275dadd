package web

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// failureLimiter counts failures per key in fixed windows. It keeps at most
// maxKeys keys, so a flood of distinct keys cannot grow it without bound.
type failureLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	keys   map[string]*failures
}

type failures struct {
	count int
	start time.Time
}

const maxLimiterKeys = 100_000

func newFailureLimiter(max int, window time.Duration, now func() time.Time) *failureLimiter {
	return &failureLimiter{max: max, window: window, now: now, keys: make(map[string]*failures)}
}

// blocked reports how long key must wait, or 0 if it may try now.
func (l *failureLimiter) blocked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil {
		return 0
	}
	left := f.start.Add(l.window).Sub(l.now())
	if left <= 0 {
		delete(l.keys, key)
		return 0
	}
	if f.count < l.max {
		return 0
	}
	return left
}

// fail records one failure of key.
func (l *failureLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f := l.keys[key]
	if f == nil || now.Sub(f.start) >= l.window {
		if f == nil && len(l.keys) >= maxLimiterKeys {
			l.prune(now)
		}
		f = &failures{start: now}
		l.keys[key] = f
	}
	f.count++
}

// reset forgets key, after a success.
func (l *failureLimiter) reset(key string) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// prune drops expired windows; if every window is live, it drops them all
// rather than grow: under such a flood the per-address limit still holds.
func (l *failureLimiter) prune(now time.Time) {
	for k, f := range l.keys {
		if now.Sub(f.start) >= l.window {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= maxLimiterKeys {
		clear(l.keys)
	}
}

// loginThrottle limits failed logins per account and, more loosely, per
// client address, which one person may share with a whole club.
type loginThrottle struct {
	account *failureLimiter
	addr    *failureLimiter
}

func newLoginThrottle(perAccount int, window time.Duration, now func() time.Time) *loginThrottle {
	return &loginThrottle{
		account: newFailureLimiter(perAccount, window, now),
		addr:    newFailureLimiter(perAccount*5, window, now),
	}
}

// check returns a 429 error if either the account or the address has used up
// its failures.
func (t *loginThrottle) check(email, addr string) error {
	wait := max(t.account.blocked(email), t.addr.blocked(addr))
	if wait <= 0 {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	return &apiError{
		status: http.StatusTooManyRequests,
		body:   detail("Request was throttled. Expected available in " + strconv.Itoa(secs) + " seconds."),
		header: http.Header{"Retry-After": {strconv.Itoa(secs)}},
		limit:  "login",
	}
}

func (t *loginThrottle) failed(email, addr string) {
	t.account.fail(email)
	t.addr.fail(addr)
}

func (t *loginThrottle) succeeded(email string) { t.account.reset(email) }
