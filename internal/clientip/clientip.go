// Package clientip owns the answer to "which address is this request
// from": the peer address, or, when the peer is a trusted proxy, the
// address the proxies recorded in X-Forwarded-For (SPEC HD-1). Rate
// limits, login throttling and audit events all use this one answer.
package clientip

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds a request's client address.
type Resolver struct {
	trusted []netip.Prefix
}

// New builds a resolver trusting the given proxies (IPs or CIDRs, as
// config.TrustedProxies holds them, already validated).
func New(proxies []string) (*Resolver, error) {
	r := &Resolver{}
	for _, s := range proxies {
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		r.trusted = append(r.trusted, unmapPrefix(p.Masked()))
	}
	return r, nil
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if !p.Addr().Is4In6() || p.Bits() < 96 {
		return p
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve returns the client address of req. X-Forwarded-For is read only
// when the peer is a trusted proxy, and then from the right: each trusted
// hop is skipped and the first address not trusted is the client. Reading
// it from the left, or from an untrusted peer, would let any client choose
// its own address and so dodge per-IP limits or lock another user out.
// Mapped IPv4 addresses are unmapped first, so ::ffff:10.0.0.1 matches
// 10.0.0.0/8.
func (r *Resolver) Resolve(req *http.Request) netip.Addr {
	peer := peerAddr(req.RemoteAddr)
	if !peer.IsValid() || !r.isTrusted(peer) {
		return peer
	}
	hops := forwardedFor(req.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break // a malformed hop: trust nothing to its left
		}
		client = a.Unmap()
		if !r.isTrusted(client) {
			break
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with
// a port ("203.0.113.7:4711", "[2001:db8::1]:4711"), as some load
// balancers write it.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

func forwardedFor(values []string) []string {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	return hops
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

type ctxKey struct{}

// Middleware resolves every request's client address once and puts it in
// the context for From.
func (r *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		a := r.Resolve(req)
		next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), ctxKey{}, a)))
	})
}

// From returns the address Middleware resolved for req, or the peer
// address when the middleware did not run. The empty string means none.
func From(req *http.Request) string {
	a, ok := req.Context().Value(ctxKey{}).(netip.Addr)
	if !ok {
		a = peerAddr(req.RemoteAddr)
	}
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
