package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
)

// identify gives every request its client address, scheme and request id,
// once, before anything else looks at them: throttles, rate limits, the
// request log and absolute links all read them from reqInfo, so a proxy's
// headers are believed in one place only.
//
// The request id goes back to the client as X-Request-Id on every
// response, so a user's report can be matched with the log line.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		var trusted bool
		ri.addr, ri.scheme, trusted = s.proxies.client(r)
		if id := r.Header.Get("X-Request-Id"); trusted && validRequestID(id) {
			ri.id = id // the proxy's id, so its log and ours agree
		} else {
			ri.id = s.requestIDs.next()
		}
		w.Header()["X-Request-Id"] = []string{ri.id}
		next.ServeHTTP(w, r)
	})
}

// clientAddr is the address of the client that made r: the peer, or behind
// a trusted proxy the address the proxy saw. identify sets it.
func clientAddr(r *http.Request) string {
	if ri := info(r); ri.addr != "" {
		return ri.addr
	}
	return peerHost(r.RemoteAddr) // a request that skipped the middleware
}

// requestScheme is "https" when the client reached us over TLS, directly or
// through a trusted proxy that said so; else "http".
func requestScheme(r *http.Request) string {
	if ri := info(r); ri.scheme != "" {
		return ri.scheme
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func peerHost(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

// requestIDs makes request ids: a random prefix per server start and a
// counter. Unique across restarts without a random read per request.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g *requestIDs) next() string {
	var b [32]byte
	buf := append(b[:0], g.prefix...)
	buf = strconv.AppendUint(buf, g.n.Add(1), 36)
	return string(buf)
}

// validRequestID accepts a proxy's request id only if it is short and
// plain, so that nothing odd reaches the log or the response headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// trustedProxies are the networks whose X-Forwarded-For and
// X-Forwarded-Proto headers are believed.
type trustedProxies []netip.Prefix

func (t trustedProxies) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// client returns the client address and scheme of r, and whether r came
// from a trusted proxy. From anyone else X-Forwarded-* are ignored: a
// client could write anything there. From a trusted proxy the client is
// the right-most address in X-Forwarded-For that is not itself a trusted
// proxy: every hop appends the address it saw, so the entries left of the
// first untrusted one are the client's own claims.
func (t trustedProxies) client(r *http.Request) (addr, scheme string, trusted bool) {
	scheme = "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := peerHost(r.RemoteAddr)
	if len(t) == 0 {
		return host, scheme, false
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !t.contains(peer) {
		return host, scheme, false
	}
	addr = peer.Unmap().String()
	xff := r.Header.Values("X-Forwarded-For")
walk:
	for i := len(xff) - 1; i >= 0; i-- {
		hops := xff[i]
		for hops != "" {
			var hop string
			if j := strings.LastIndexByte(hops, ','); j >= 0 {
				hop, hops = hops[j+1:], hops[:j]
			} else {
				hop, hops = hops, ""
			}
			hop = strings.TrimSpace(hop)
			if hop == "" {
				continue
			}
			a, err := parseHop(hop)
			if err != nil {
				break walk // garbage: the last address we could trust stands
			}
			addr = a.String()
			if !t.contains(a) {
				break walk
			}
		}
	}
	if v := r.Header.Values("X-Forwarded-Proto"); len(v) > 0 {
		// The last value is the one our own proxy set.
		p := v[len(v)-1]
		if j := strings.LastIndexByte(p, ','); j >= 0 {
			p = p[j+1:]
		}
		switch strings.ToLower(strings.TrimSpace(p)) {
		case "https":
			scheme = "https"
		case "http":
			scheme = "http"
		}
	}
	return addr, scheme, true
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port, IPv6 possibly in brackets.
func parseHop(hop string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(hop); err == nil {
		return a.Unmap(), nil
	}
	ap, err := netip.ParseAddrPort(hop)
	if err != nil {
		if strings.HasPrefix(hop, "[") && strings.HasSuffix(hop, "]") {
			a, err := netip.ParseAddr(hop[1 : len(hop)-1])
			return a.Unmap(), err
		}
		return netip.Addr{}, err
	}
	return ap.Addr().Unmap(), nil
}

// ParseCIDRs reads a comma- or space-separated list of networks for
// Config.TrustedProxies. A bare address is a network of one.
func ParseCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a network such as 10.0.0.0/8", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
