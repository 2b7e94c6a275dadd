package web

import (
	"hash/maphash"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// failureLimiter counts attempts per key in fixed windows. Keys are kept
// as a keyed 64-bit hash, so an entry has the same small size whatever
// the key: maxKeys bounds the memory in bytes, not only in entries. When
// the table is full of live windows, further keys are counted in a fixed
// set of shared buckets instead; nothing already counted is ever dropped
// early, so filling the table cannot reset anyone's count. Sharing a
// bucket can only make a key wait sooner, never later.
type failureLimiter struct {
	mu        sync.Mutex
	max       int
	window    time.Duration
	now       func() time.Time
	seed      maphash.Seed
	keys      map[uint64]failures
	maxKeys   int
	overflow  []failures
	lastPrune time.Time
}

type failures struct {
	count int32
	start int64 // UnixNano of the window's start
}

// Bounds of a failureLimiter: about 40 bytes an entry in the map, so some
// 4 MB at most, plus the shared buckets.
const (
	maxLimiterKeys  = 100_000
	overflowBuckets = 4096
)

func newFailureLimiter(max int, window time.Duration, now func() time.Time) *failureLimiter {
	return &failureLimiter{
		max: max, window: window, now: now, seed: maphash.MakeSeed(),
		keys: make(map[uint64]failures), maxKeys: maxLimiterKeys,
		overflow: make([]failures, overflowBuckets),
	}
}

// live reports whether f's window is still open at now.
func (l *failureLimiter) live(f failures, now int64) bool {
	return f.count > 0 && now-f.start < int64(l.window)
}

// slot finds where key is counted: its entry, a new entry, or its shared
// bucket when the table is full. l.mu must be held.
func (l *failureLimiter) slot(h uint64, now time.Time) (f failures, inMap bool) {
	if f, ok := l.keys[h]; ok {
		return f, true
	}
	bucket := l.overflow[h%uint64(len(l.overflow))]
	if len(l.keys) >= l.maxKeys && now.Sub(l.lastPrune) >= time.Second {
		l.prune(now)
	}
	if len(l.keys) >= l.maxKeys {
		return bucket, false
	}
	// A key that was counted in its bucket while the table was full
	// brings that count along: moving cannot reset it.
	if l.live(bucket, now.UnixNano()) {
		return bucket, true
	}
	return failures{}, true
}

func (l *failureLimiter) store(h uint64, f failures, inMap bool) {
	switch {
	case !inMap:
		l.overflow[h%uint64(len(l.overflow))] = f
	case f.count <= 0:
		delete(l.keys, h)
	default:
		l.keys[h] = f
	}
}

// take reserves one attempt for key and returns 0, or returns how long key
// must wait, reserving nothing. The check and the count are one step, so
// parallel attempts cannot all pass the check before any is counted.
func (l *failureLimiter) take(key string) time.Duration {
	h := maphash.String(l.seed, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f, inMap := l.slot(h, now)
	if !l.live(f, now.UnixNano()) {
		f = failures{start: now.UnixNano()}
	}
	if int(f.count) >= l.max {
		return time.Duration(f.start + int64(l.window) - now.UnixNano())
	}
	f.count++
	l.store(h, f, inMap)
	return 0
}

// give hands back an attempt that take reserved and that turned out not
// to be a failure.
func (l *failureLimiter) give(key string) {
	h := maphash.String(l.seed, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f, inMap := l.slot(h, now)
	if !l.live(f, now.UnixNano()) {
		return
	}
	f.count--
	l.store(h, f, inMap)
}

// reset forgets key's count, after a success. A key counted in a shared
// bucket only gives its own attempt back: the others in it are not its.
func (l *failureLimiter) reset(key string) {
	h := maphash.String(l.seed, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.keys[h]; ok {
		delete(l.keys, h)
		return
	}
	now := l.now()
	if f, inMap := l.slot(h, now); !inMap && l.live(f, now.UnixNano()) {
		f.count--
		l.store(h, f, false)
	}
}

// prune drops the entries whose window is over. l.mu must be held.
func (l *failureLimiter) prune(now time.Time) {
	l.lastPrune = now
	n := now.UnixNano()
	for k, f := range l.keys {
		if !l.live(f, n) {
			delete(l.keys, k)
		}
	}
}

// loginThrottle limits login attempts per account and, more loosely, per
// client address, which one person may share with a whole club. Each
// attempt is reserved before the password is checked and kept as a
// failure unless the login succeeds.
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

// begin reserves an attempt for the account and the address, or returns
// a 429 error if either has used up its attempts.
func (t *loginThrottle) begin(email, addr string) error {
	addr = addrKey(addr)
	if wait := t.account.take(email); wait > 0 {
		return throttled(wait)
	}
	if wait := t.addr.take(addr); wait > 0 {
		t.account.give(email)
		return throttled(wait)
	}
	return nil
}

// succeeded forgets the account's failures and gives the address its
// attempt back.
func (t *loginThrottle) succeeded(email, addr string) {
	t.account.reset(email)
	t.addr.give(addrKey(addr))
}

// abandon gives both attempts back: the password was never judged.
func (t *loginThrottle) abandon(email, addr string) {
	t.account.give(email)
	t.addr.give(addrKey(addr))
}

// throttled is DRF's 429 with the seconds to wait.
func throttled(wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	return &apiError{
		status: http.StatusTooManyRequests,
		body:   detail("Request was throttled. Expected available in " + strconv.Itoa(secs) + " seconds."),
		header: http.Header{"Retry-After": {strconv.Itoa(secs)}},
		limit:  "login",
	}
}

// addrKey is the part of a client address that limits count: an IPv4
// address whole, an IPv6 one by its /64, the block one subscriber gets.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Is4() || ip.Is4In6() {
		return addr
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
