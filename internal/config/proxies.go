package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Shortest prefixes trusted_proxies accepts. A proxy list names the
// machines that terminate TLS in front of the gateway; even a large
// private network fits in a /8 (IPv4) or a /16 (IPv6). Anything wider is a
// slice of the internet, and a few such slices (0.0.0.0/1 + 128.0.0.0/1)
// add up to everyone.
const (
	minProxyBits4 = 8
	minProxyBits6 = 16
)

// checkTrustedProxies: forwarded headers are believed only from these
// addresses (SPEC HD-1, HD-3). A client inside a trusted prefix can forge
// X-Forwarded-For (its IP for rate limits, audit and session binding) and
// X-Forwarded-Proto, so a prefix that covers much of the internet turns
// that trust into anyone's.
func checkTrustedProxies(ps *Problems, proxies []string) {
	for i, s := range proxies {
		if msg := proxyProblem(s); msg != "" {
			ps.add(index("trusted_proxies", i), msg)
		}
	}
}

func proxyProblem(s string) string {
	if !strings.Contains(s, "/") {
		if _, err := netip.ParseAddr(s); err != nil {
			return fmt.Sprintf("invalid IP address %q", s)
		}
		return ""
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return fmt.Sprintf("invalid CIDR %q", s)
	}
	if msg := proxyWidthProblem(s, unmapPrefix(p.Masked())); msg != "" {
		return msg
	}
	if p.Masked() != p {
		return fmt.Sprintf("%q has host bits set; did you mean %q?", s, p.Masked().String())
	}
	return ""
}

// proxyWidthProblem refuses a prefix p (written as s) that covers too much.
func proxyWidthProblem(s string, p netip.Prefix) string {
	switch {
	case p.Bits() == 0:
		return fmt.Sprintf("%q trusts every address, so anyone could forge forwarded headers; list the proxies", s)
	case p.Addr().Is4() && p.Bits() < minProxyBits4,
		p.Addr().Is6() && p.Bits() < minProxyBits6:
		return fmt.Sprintf("%q is too wide (IPv4 prefixes must be /%d or longer, IPv6 /%d or longer): "+
			"a proxy list must name the proxies, not the internet", s, minProxyBits4, minProxyBits6)
	case p.Addr().Is6() && p.Bits() < 96 && p.Contains(netip.MustParseAddr("::ffff:0.0.0.0")):
		return fmt.Sprintf("%q covers every IPv4-mapped address (::ffff:0:0/96), so it would trust all of IPv4; list the proxies", s)
	}
	return ""
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/96+n) into
// the IPv4 prefix a.b.c.d/n it covers, so it is held to the IPv4 bound:
// ::ffff:0:0/96 is 0.0.0.0/0 written another way. Any other prefix comes
// back unchanged.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if !p.Addr().Is4In6() || p.Bits() < 96 {
		return p
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
}
