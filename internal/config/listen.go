package config

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// checkListen: SPEC HD-3 refuses a plain-HTTP listener on a non-loopback
// address unless trusted proxies are set, because then either tokens cross
// the network in clear, or a TLS-terminating proxy sits in front whose
// X-Forwarded-* headers must be trusted by address, not by anyone.
//
// An http public_url (allowed only for a loopback host) says the gateway
// serves this machine alone, so the listener must be loopback too: with
// TLS on every interface the public_url would name a scheme the listener
// does not speak, and the loopback exception would become a way to serve
// other hosts. Only a proxy in front (trusted_proxies) may reach it from
// elsewhere.
func (c *Config) checkListen(ps *Problems) {
	if msg := hostPortProblem(c.Listen); msg != "" {
		ps.add("listen", msg)
		return
	}
	if len(c.TrustedProxies) > 0 || listensOnLoopback(c.Listen) {
		return
	}
	switch {
	case !c.TLS.Enabled():
		ps.add("listen", "plain HTTP on a non-loopback address: terminate TLS here (tls.cert_file and tls.key_file) "+
			"or, behind a TLS-terminating proxy, set trusted_proxies to its addresses")
	case isHTTPOrigin(c.PublicURL):
		ps.add("listen", "not a loopback address, but public_url is http (loopback only): "+
			"listen on loopback, or use an https public_url to serve other hosts")
	}
}

// isHTTPOrigin reports whether s is a valid origin with the http scheme.
func isHTTPOrigin(s string) bool {
	return originProblem(s) == "" && strings.HasPrefix(s, "http://")
}

// checkMetrics: /metrics is unauthenticated, and a second listener on the
// port of the first would fail to bind only at start-up, after config
// check said yes.
func (c *Config) checkMetrics(ps *Problems) {
	if c.Metrics.Listen == "" {
		return
	}
	if msg := hostPortProblem(c.Metrics.Listen); msg != "" {
		ps.add("metrics.listen", msg)
	} else if hostPortProblem(c.Listen) == "" && sameBind(c.Metrics.Listen, c.Listen) {
		ps.add("metrics.listen", "binds the same port as listen on the same or every interface; "+
			"use another port, or leave it empty to serve /metrics on the main listener")
	}
}

// sameBind reports whether listeners on the valid addresses a and b would
// claim the same socket: the same port (0 picks a free one, so never
// collides) on the same host, or on any host when either is a wildcard
// (":8080", "0.0.0.0:8080" and "[::]:8080" bind every interface).
func sameBind(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.ParseUint(pa, 10, 16)
	nb, _ := strconv.ParseUint(pb, 10, 16)
	if na != nb || na == 0 {
		return false
	}
	return isWildcardHost(ha) || isWildcardHost(hb) || sameHost(ha, hb)
}

func isWildcardHost(h string) bool {
	ip, err := netip.ParseAddr(h)
	return h == "" || err == nil && ip.IsUnspecified()
}

// sameHost compares listen hosts: IPs by value ("::1" is
// "0:0:0:0:0:0:0:1"), names without case, and "localhost" as any loopback
// IP, since that is what it binds.
func sameHost(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	ia, ea := netip.ParseAddr(a)
	ib, eb := netip.ParseAddr(b)
	switch {
	case ea == nil && eb == nil:
		return ia.Unmap() == ib.Unmap()
	case strings.EqualFold(a, "localhost"):
		return eb == nil && ib.IsLoopback()
	case strings.EqualFold(b, "localhost"):
		return ea == nil && ia.IsLoopback()
	}
	return false
}

var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// hostPortProblem says what is wrong with s as a listen address, or "". An
// empty host means every interface. Port 0 (any free port) is accepted for
// tests.
func hostPortProblem(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "must be host:port, such as 127.0.0.1:8080 or :8443"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "port must be a number from 0 to 65535"
	}
	if _, err := netip.ParseAddr(host); host != "" && err != nil && !hostnameRE.MatchString(host) {
		return fmt.Sprintf("invalid host %q", host)
	}
	return ""
}

// listensOnLoopback reports whether a valid listen address binds only a
// loopback interface. An empty host ("":8080) binds every interface.
func listensOnLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}
