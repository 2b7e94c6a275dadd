package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"maru/store"
)

// byteBudget bounds the memory that responses hold while they are loaded,
// encoded and written, summed over every request in flight. A request
// reserves its share before it loads anything and gives it back when its
// last byte is written, or when the write deadline cuts a client off that
// stopped reading. Requests beyond the budget wait their turn, in order,
// holding nothing; so a thousand clients asking for the largest page cost
// no more memory than a few.
type byteBudget struct {
	mu      sync.Mutex
	total   int64
	free    int64
	waiters []*budgetWaiter // first come, first served
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once the bytes are granted
}

// newByteBudget makes a budget of total bytes; nil (no limit) when total
// is not positive. A nil budget grants everything at once.
func newByteBudget(total int64) *byteBudget {
	if total <= 0 {
		return nil
	}
	return &byteBudget{total: total, free: total}
}

// errBusy answers a request that waited too long for its share.
var errBusy = &apiError{
	status: http.StatusServiceUnavailable,
	body:   detail("The server is busy. Try again shortly."),
	header: http.Header{"Retry-After": {"1"}},
}

// reserve waits up to wait (or until ctx ends) for n bytes of the budget.
// A request larger than the whole budget waits for all of it.
func (b *byteBudget) reserve(ctx context.Context, n int64, wait time.Duration) (*reservation, error) {
	if b == nil {
		return &reservation{}, nil
	}
	n = min(max(n, 0), b.total)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.free >= n {
		b.free -= n
		b.mu.Unlock()
		return &reservation{b: b, n: n}, nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()

	var timeout <-chan time.Time // none: wait as long as the client does
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	var err error
	select {
	case <-w.ready:
		return &reservation{b: b, n: n}, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timeout:
		err = errBusy
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready: // granted while giving up: hand it back
		b.free += n
	default:
		for i, x := range b.waiters {
			if x == w {
				b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
				break
			}
		}
	}
	b.grant()
	return nil, err
}

// grant hands free bytes to the waiters in order. b.mu must be held.
func (b *byteBudget) grant() {
	for len(b.waiters) > 0 && b.free >= b.waiters[0].n {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.free -= w.n
		close(w.ready)
	}
}

func (b *byteBudget) put(n int64) {
	b.mu.Lock()
	b.free += n
	b.grant()
	b.mu.Unlock()
}

// reservation is one request's share of a byteBudget.
type reservation struct {
	b *byteBudget
	n int64
}

// shrink gives back all but n bytes, once the request knows what it
// really needs.
func (r *reservation) shrink(n int64) {
	if r.b == nil || n >= r.n {
		return
	}
	r.b.put(r.n - max(n, 0))
	r.n = max(n, 0)
}

// release gives the whole share back; releasing twice is harmless.
func (r *reservation) release() { r.shrink(0) }

// Sizes that decide what a response of posts reserves.
const (
	// maxPostBytes is the most a stored post can take in memory: every
	// text at its longest, 4 bytes a character.
	maxPostBytes = 4*(store.MaxTitleLen+store.MaxContentLen+store.MaxTags*store.MaxTagLen+
		store.MaxEmailLen+store.MaxNicknameLen) + postOverhead
	postOverhead = 512 // the struct, slice headers, numbers and times
	// streamChunk is how much encoded JSON gathers before it is written.
	streamChunk = 32 << 10
)

// postBytes is what p takes in memory as loaded.
func postBytes(p *store.Post) int64 {
	n := len(p.Title) + len(p.Content) + len(p.Author.Email) + len(p.Author.Nickname) + postOverhead
	for _, t := range p.Tags {
		n += len(t) + 16
	}
	return int64(n)
}

// postJSONBound is the most JSON p can encode to: a byte of text becomes
// at most 6 (a control character or < as \u003c), plus the keys and
// numbers. Counting bytes rather than characters costs nothing per
// request (counting characters was a twelfth of a list page's time); it
// overstates Korean text threefold, but only the largest post of a page
// is counted this way (pageNeeds).
func postJSONBound(p *store.Post) int64 {
	n := len(p.Title) + len(p.Content) + len(p.Author.Email) + len(p.Author.Nickname)
	for _, t := range p.Tags {
		n += len(t) + 12
	}
	return int64(6*n + postOverhead)
}

// pageNeeds is what answering with posts holds at most: the posts
// themselves, and the encoding of the largest one on top of a chunk.
func pageNeeds(posts []*store.Post) int64 {
	var loaded, largest int64
	for _, p := range posts {
		loaded += postBytes(p)
		largest = max(largest, postJSONBound(p))
	}
	return loaded + largest + streamChunk
}

// limitWrite gives every response WriteTimeout to be written. Without it a
// client that asks for a large answer and never reads it keeps the answer,
// and the goroutine writing it, for as long as it keeps the connection.
// The chat socket clears the deadline for itself once it is upgraded.
func (s *Server) limitWrite(next http.Handler) http.Handler {
	if s.cfg.WriteTimeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An error means the writer cannot set deadlines (a test
		// recorder): there is no connection to protect then.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		next.ServeHTTP(w, r)
	})
}

// budgetWait is how long a request may wait for its share of response
// memory: half its write deadline, so that the 503 it gets when the wait
// is over still has time to go out.
func (s *Server) budgetWait() time.Duration { return s.cfg.WriteTimeout / 2 }
