package web

import (
	"hash/maphash"
	"net/http"
	"sync"
	"time"

	"maru/store"
)

// registrationLimiter lets each client address register accounts at a
// steady rate with a burst on top: by default 60 an hour in bursts of 30,
// so that a class of 30 behind one school router signs up at once, while
// one client cannot fill the database with accounts. Only registrations
// that create an account count: a refused one gives its token back.
type registrationLimiter struct {
	mu        sync.Mutex
	rate      float64 // tokens a second
	burst     float64
	now       func() time.Time
	seed      maphash.Seed
	buckets   map[uint64]tokenBucket
	maxKeys   int
	lastPrune time.Time
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

// maxRegistrationKeys bounds the limiter to a few hundred kilobytes. An
// address gets an entry only by creating an account, and loses it once
// its bucket has filled up again.
const maxRegistrationKeys = 10_000

// newRegistrationLimiter allows perHour registrations an hour per address,
// in bursts of half that; nil (no limit) when perHour is not positive.
func newRegistrationLimiter(perHour float64, now func() time.Time) *registrationLimiter {
	if perHour <= 0 {
		return nil
	}
	return &registrationLimiter{
		rate: perHour / 3600, burst: max(1, perHour/2), now: now,
		seed: maphash.MakeSeed(), buckets: make(map[uint64]tokenBucket), maxKeys: maxRegistrationKeys,
	}
}

func (l *registrationLimiter) refill(b tokenBucket, now time.Time) tokenBucket {
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	return b
}

// take spends a registration of addr and returns 0, or returns how long
// addr must wait. With the table full of addresses still refilling, a new
// address waits too: refusing is the safe side of a flood.
func (l *registrationLimiter) take(addr string) time.Duration {
	if l == nil {
		return 0
	}
	h := maphash.String(l.seed, addrKey(addr))
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[h]
	if ok {
		b = l.refill(b, now)
	} else {
		if len(l.buckets) >= l.maxKeys && now.Sub(l.lastPrune) >= time.Second {
			l.prune(now)
		}
		if len(l.buckets) >= l.maxKeys {
			return time.Duration(float64(time.Second) / l.rate)
		}
		b = tokenBucket{tokens: l.burst, last: now}
	}
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	l.buckets[h] = b
	return 0
}

// give returns a registration that created no account.
func (l *registrationLimiter) give(addr string) {
	if l == nil {
		return
	}
	h := maphash.String(l.seed, addrKey(addr))
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[h]
	if !ok {
		return
	}
	b = l.refill(b, l.now())
	b.tokens = min(l.burst, b.tokens+1)
	if b.tokens >= l.burst {
		delete(l.buckets, h)
		return
	}
	l.buckets[h] = b
}

// prune drops the buckets that have filled up again. l.mu must be held.
func (l *registrationLimiter) prune(now time.Time) {
	l.lastPrune = now
	for h, b := range l.buckets {
		if l.refill(b, now).tokens >= l.burst {
			delete(l.buckets, h)
		}
	}
}

// createUser registers nu under the per-address limit, for the API and the
// register page alike. A refused registration costs the address nothing.
func (s *Server) createUser(r *http.Request, nu store.NewUser) (*store.User, error) {
	addr := clientAddr(r)
	if wait := s.registrations.take(addr); wait > 0 {
		return nil, throttled(wait)
	}
	u, err := s.signUp(r.Context(), nu)
	if err != nil {
		s.registrations.give(addr)
	}
	return u, err
}
