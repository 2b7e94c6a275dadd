package web

import (
	"fmt"
	"hash/maphash"
	"net/http"
	"testing"
	"time"
)

// One address may register a burst of half the hourly rate at once (a
// class behind one router), then waits; refused registrations (a taken
// email) cost nothing, and a taken email costs no password hash.
func TestRegistrationsLimitedPerAddress(t *testing.T) {
	e := newTestEnvWith(t, Config{RegisterRate: 60})
	reg := func(email string) *response {
		return e.do("POST", "/user/registration/", "", map[string]string{"email": email, "password": "long enough pw"})
	}
	for i := range 29 {
		reg(fmt.Sprintf("pupil%02d@school.example", i)).wantStatus(http.StatusCreated)
	}
	hashes := e.store.PasswordHashes()
	for range 5 {
		reg("pupil00@school.example").wantStatus(http.StatusBadRequest).wantBody("already registered")
	}
	if n := e.store.PasswordHashes() - hashes; n != 0 {
		t.Fatalf("duplicate registrations hashed %d passwords, want 0", n)
	}
	reg("pupil29@school.example").wantStatus(http.StatusCreated)
	res := reg("one-too-many@school.example").wantStatus(http.StatusTooManyRequests)
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q, want the seconds until the next registration", ra)
	}
}

func TestRegistrationLimiterRefills(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRegistrationLimiter(60, func() time.Time { return now })
	for range 30 {
		if d := l.take("192.0.2.1"); d != 0 {
			t.Fatalf("within the burst: wait %v", d)
		}
	}
	if d := l.take("192.0.2.1"); d != time.Minute {
		t.Fatalf("after the burst: wait %v, want a minute", d)
	}
	if d := l.take("198.51.100.1"); d != 0 {
		t.Fatalf("another address waits %v", d)
	}
	now = now.Add(time.Minute)
	if d := l.take("192.0.2.1"); d != 0 {
		t.Fatalf("a minute later: wait %v", d)
	}
	// A refund fills the bucket; a full bucket is forgotten.
	l.give("198.51.100.1")
	if _, ok := l.buckets[hashOf(l, "198.51.100.1")]; ok {
		t.Fatal("a full bucket is still kept")
	}
	if newRegistrationLimiter(0, time.Now) != nil || newRegistrationLimiter(-1, time.Now).take("x") != 0 {
		t.Fatal("a rate of 0 or less must be no limit")
	}
}

func hashOf(l *registrationLimiter, addr string) uint64 {
	return maphash.String(l.seed, addrKey(addr))
}
