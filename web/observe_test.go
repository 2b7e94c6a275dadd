package web

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

func TestClientAddressBehindProxies(t *testing.T) {
	trusted := trustedProxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name       string
		proxies    trustedProxies
		remote     string
		xff        []string
		proto      string
		tls        bool
		wantAddr   string
		wantScheme string
	}{
		{"no proxies configured: headers ignored", nil, "203.0.113.5:4000", []string{"1.2.3.4"}, "https", false, "203.0.113.5", "http"},
		{"untrusted peer: headers ignored", trusted, "203.0.113.5:4000", []string{"1.2.3.4"}, "https", false, "203.0.113.5", "http"},
		{"untrusted peer over TLS", trusted, "203.0.113.5:4000", nil, "http", true, "203.0.113.5", "https"},
		{"trusted peer, one hop", trusted, "10.0.0.2:4000", []string{"198.51.100.7"}, "https", false, "198.51.100.7", "https"},
		{"right-most untrusted hop wins over forged left ones", trusted, "10.0.0.2:4000", []string{"6.6.6.6, 198.51.100.7"}, "", false, "198.51.100.7", "http"},
		{"trusted hops are skipped", trusted, "10.0.0.2:4000", []string{"198.51.100.7, 10.1.1.1", "10.2.2.2"}, "", false, "198.51.100.7", "http"},
		{"several headers read as one list", trusted, "10.0.0.2:4000", []string{"6.6.6.6", "198.51.100.7"}, "", false, "198.51.100.7", "http"},
		{"only trusted hops: the left-most", trusted, "10.0.0.2:4000", []string{"10.3.3.3, 10.1.1.1"}, "", false, "10.3.3.3", "http"},
		{"garbage stops the walk at the last trusted hop", trusted, "10.0.0.2:4000", []string{"198.51.100.7, <script>, 10.1.1.1"}, "", false, "10.1.1.1", "http"},
		{"no header from a trusted peer: the peer", trusted, "10.0.0.2:4000", nil, "", false, "10.0.0.2", "http"},
		{"hop with a port", trusted, "10.0.0.2:4000", []string{"198.51.100.7:5555"}, "", false, "198.51.100.7", "http"},
		{"IPv6 peer and hop", trusted, "[fd00::1]:4000", []string{"[2001:db8::9]:443"}, "", false, "2001:db8::9", "http"},
		{"IPv4-mapped peer", trusted, "[::ffff:10.0.0.2]:4000", []string{"198.51.100.7"}, "", false, "198.51.100.7", "http"},
		{"proto: the last value counts", trusted, "10.0.0.2:4000", nil, "http, https", false, "10.0.0.2", "https"},
		{"proto: nonsense ignored", trusted, "10.0.0.2:4000", nil, "gopher", false, "10.0.0.2", "http"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if c.proto != "" {
				r.Header.Set("X-Forwarded-Proto", c.proto)
			}
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			addr, scheme, _ := c.proxies.client(r)
			if addr != c.wantAddr || scheme != c.wantScheme {
				t.Errorf("client = %s %s, want %s %s", addr, scheme, c.wantAddr, c.wantScheme)
			}
		})
	}
}

func TestParseCIDRs(t *testing.T) {
	got, err := ParseCIDRs("10.0.0.0/8, 192.168.1.7 fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	want := "[10.0.0.0/8 192.168.1.7/32 fd00::/8]"
	if fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.org", "10.0.0"} {
		if _, err := ParseCIDRs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// failLogin sends one failed login for a fresh unknown account, with the
// given X-Forwarded-For (none when empty), and returns the status.
func failLogin(e *testEnv, n int, xff string) *response {
	e.t.Helper()
	body := fmt.Sprintf(`{"email":"nobody%d@example.com","password":"wrong password"}`, n)
	req, _ := http.NewRequest("POST", e.http.URL+"/user/login/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return e.send(req)
}

// With LoginFailures 1, an address may fail five times (five accounts).
const addrFailures = 5

func TestForgedForwardedForFromUntrustedPeerChangesNothing(t *testing.T) {
	// The test client is 127.0.0.1; the trusted network is elsewhere.
	e := newTestEnvWith(t, Config{LoginFailures: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	for i := range addrFailures {
		failLogin(e, i, fmt.Sprintf("198.51.100.%d", i)).wantStatus(http.StatusBadRequest)
	}
	res := failLogin(e, 99, "203.0.113.99")
	res.wantStatus(http.StatusTooManyRequests)
	if strings.Contains(e.logs.String(), "198.51.100.") || strings.Contains(e.logs.String(), "203.0.113.99") {
		t.Errorf("a forged X-Forwarded-For reached the log:\n%s", e.logs)
	}
	if !strings.Contains(e.logs.String(), "addr=127.0.0.1") {
		t.Errorf("the log does not name the peer 127.0.0.1:\n%s", e.logs)
	}
}

func TestTrustedProxyThrottlesClientsApart(t *testing.T) {
	e := newTestEnvWith(t, Config{LoginFailures: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	const a, b = "198.51.100.7", "203.0.113.9"
	for i := range addrFailures {
		failLogin(e, i, a).wantStatus(http.StatusBadRequest)
	}
	failLogin(e, 100, a).wantStatus(http.StatusTooManyRequests)
	// The client cannot escape by prepending addresses of its own.
	failLogin(e, 101, "192.0.2.1, "+a).wantStatus(http.StatusTooManyRequests)
	// Another client behind the same proxy is not held up.
	for i := range addrFailures {
		failLogin(e, 200+i, b).wantStatus(http.StatusBadRequest)
	}
	if !strings.Contains(e.logs.String(), "addr="+a) || !strings.Contains(e.logs.String(), "addr="+b) {
		t.Errorf("the log does not name the clients behind the proxy:\n%s", e.logs)
	}
}

// Links never take the scheme or host of a request, not even from a
// trusted proxy: without -base-url they are site-relative, so a client
// resolves them against whatever address it used.
func TestLinksAreRelativeBehindAProxy(t *testing.T) {
	for _, c := range []struct {
		name    string
		proxies []netip.Prefix
		want    string
	}{
		{"trusted", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "</api/post/?"},
		{"untrusted", nil, "</api/post/?"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnvWith(t, Config{TrustedProxies: c.proxies})
			u := e.register("writer@example.com")
			for i := range 2 {
				e.do("POST", "/api/post/write", u.Access, map[string]any{"title": fmt.Sprint("t", i), "content": "c"}).wantStatus(http.StatusCreated)
			}
			req, _ := http.NewRequest("GET", e.http.URL+"/api/post/?page_size=1", nil)
			req.Header.Set("X-Forwarded-Proto", "https")
			res := e.send(req).wantStatus(http.StatusOK)
			if link := res.Header.Get("Link"); !strings.HasPrefix(link, c.want) {
				t.Errorf("Link %q, want it to start with %s", link, c.want)
			}
		})
	}
}

func TestEveryResponseHasARequestID(t *testing.T) {
	e := newTestEnv(t)
	idRe := regexp.MustCompile(`^[0-9a-f]{12}-[0-9a-z]+$`)
	seen := map[string]bool{}
	for _, path := range []string{"/healthz", "/api/post/", "/api/post/detail/999/", "/no/such/route", "/mysite/user/v1/profile/"} {
		res := e.do("GET", path, "", nil)
		id := res.Header.Get("X-Request-Id")
		if !idRe.MatchString(id) {
			t.Errorf("GET %s (%d): X-Request-Id %q", path, res.Status, id)
		}
		if seen[id] {
			t.Errorf("GET %s: request id %q repeated", path, id)
		}
		seen[id] = true
		if !strings.Contains(e.logs.String(), "request_id="+id) {
			t.Errorf("GET %s: request id %s not in the log", path, id)
		}
	}
}

func TestRequestIDFromTrustedProxyOnly(t *testing.T) {
	for _, c := range []struct {
		name    string
		proxies []netip.Prefix
		sent    string
		kept    bool
	}{
		{"trusted proxy's id is kept", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "edge-42.a_b", true},
		{"untrusted peer's id is replaced", nil, "edge-42", false},
		{"odd characters are replaced", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "a b\"c", false},
		{"over-long id is replaced", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, strings.Repeat("x", 65), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnvWith(t, Config{TrustedProxies: c.proxies})
			req, _ := http.NewRequest("GET", e.http.URL+"/healthz", nil)
			req.Header.Set("X-Request-Id", c.sent)
			got := e.send(req).Header.Get("X-Request-Id")
			if (got == c.sent) != c.kept || got == "" {
				t.Errorf("sent %q, got back %q; want kept=%v", c.sent, got, c.kept)
			}
		})
	}
}

func TestHTTPSThroughTrustedProxyGetsHSTS(t *testing.T) {
	for _, c := range []struct {
		name    string
		proxies []netip.Prefix
		want    bool
	}{
		{"trusted proxy says https", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, true},
		{"untrusted peer says https", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnvWith(t, Config{TrustedProxies: c.proxies})
			req, _ := http.NewRequest("GET", e.http.URL+"/healthz", nil)
			req.Header.Set("X-Forwarded-Proto", "https")
			got := e.send(req).Header.Get("Strict-Transport-Security") != ""
			if got != c.want {
				t.Errorf("HSTS sent: %v, want %v", got, c.want)
			}
		})
	}
}
