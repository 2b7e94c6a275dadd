package web

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// userLimiter is a token bucket per user for one kind of write (posts,
// rooms, chat messages over REST): a steady rate with a burst. Its map
// holds only users whose bucket is not full again: a full bucket is the
// same as none, so idle entries are dropped and the map stays about as
// large as the set of users writing right now.
type userLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	users   map[int64]*rate.Limiter
	sweepAt int // sweep idle entries when the map reaches this size
}

// minSweep is the map size below which idle entries are left alone: a
// sweep costs a pass over the map, not worth it for a few hundred.
const minSweep = 1024

// newUserLimiter allows each user perSecond writes a second in bursts of
// burst. A rate of zero or less means no limit, and gives nil, which
// allows everything.
func newUserLimiter(perSecond float64, burst int, now func() time.Time) *userLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &userLimiter{
		limit:   rate.Limit(perSecond),
		burst:   max(burst, 1),
		now:     now,
		users:   make(map[int64]*rate.Limiter),
		sweepAt: minSweep,
	}
}

// perHour turns a number of writes an hour into a limiter with bursts of a
// third of that, so a user may write a few in a row and then at the
// steady pace.
func perHour(n float64, now func() time.Time) *userLimiter {
	return newUserLimiter(n/3600, int(math.Ceil(n/3)), now)
}

// writeSlot is a write taken from a user's bucket. Cancel gives it back,
// when the write it was taken for was refused (a validation error): only
// writes that happen count.
type writeSlot struct {
	r  *rate.Reservation
	at time.Time
}

// cancel returns the slot to the bucket. It cancels at the time the slot
// was taken: the limiter gives nothing back for a reservation whose time
// has passed.
func (w writeSlot) cancel() {
	if w.r != nil {
		w.r.CancelAt(w.at)
	}
}

// take takes one write from userID's bucket, or returns the 429 to answer
// with when it is empty.
func (l *userLimiter) take(userID int64) (writeSlot, error) {
	if l == nil {
		return writeSlot{}, nil
	}
	now := l.now()
	// One lock for the map and the reservation, so that a sweep cannot
	// drop a bucket between its lookup and its use.
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.users[userID]
	if lim == nil {
		if len(l.users) >= l.sweepAt {
			l.sweep(now)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.users[userID] = lim
	}
	r := lim.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return writeSlot{}, errThrottled(wait)
	}
	return writeSlot{r: r, at: now}, nil
}

// sweep drops the entries whose bucket has filled up again, and sets the
// next sweep at twice what remains, so that sweeping costs amortized O(1)
// a write however many users write at once.
func (l *userLimiter) sweep(now time.Time) {
	for id, lim := range l.users {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.users, id)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.users))
}

// errThrottled is DRF's answer to a throttled request: 429, a
// Retry-After header and the wait in whole seconds, rounded up.
func errThrottled(wait time.Duration) error {
	secs := strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
	return &apiError{
		status: http.StatusTooManyRequests,
		body:   detail("Request was throttled. Expected available in " + secs + " seconds."),
		header: http.Header{"Retry-After": {secs}},
	}
}
