package store

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
)

// ErrBusy means the server has more password hashes waiting than it will
// queue: the caller should try again shortly.
var ErrBusy = errors.New("too many password hashes waiting")

// hasher bounds password hashing. Each hash takes tens of milliseconds of
// CPU (hundreds on a Pi): at most slots run at once, so a flood of
// registrations or logins cannot take every core from the rest of the
// server, and at most queue more wait for a slot, so the flood cannot pile
// up goroutines and request bodies either; beyond that callers get
// ErrBusy at once.
type hasher struct {
	slots   chan struct{} // a token per hash running
	waiting chan struct{} // a token per hash running or waiting
	count   atomic.Int64  // hashes and comparisons started
}

func newHasher(slots, queue int) *hasher {
	if slots <= 0 {
		slots = max(1, runtime.NumCPU()/2)
	}
	if queue <= 0 {
		queue = 16 * slots
	}
	return &hasher{slots: make(chan struct{}, slots), waiting: make(chan struct{}, slots+queue)}
}

// do runs fn on a slot, waiting for one while the queue has room and ctx
// lasts.
func (h *hasher) do(ctx context.Context, fn func()) error {
	select {
	case h.waiting <- struct{}{}:
	default:
		return ErrBusy
	}
	defer func() { <-h.waiting }()
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h.slots }()
	h.count.Add(1)
	fn()
	return nil
}

// PasswordHashes is how many password hashes and comparisons have run
// since the store was opened: the CPU that accounts have cost.
func (s *Store) PasswordHashes() int64 { return s.hash.count.Load() }
