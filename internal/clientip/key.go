package clientip

import "net/netip"

// ipv6KeyBits is the IPv6 prefix one subscriber is assumed to hold: ISPs
// and clouds hand a single host or customer at least a /64 (RFC 6177,
// SLAAC needs one per link), so its owner can pick any of 2^64 source
// addresses at will.
const ipv6KeyBits = 64

// Key is the key a per-client limit should count addr under: the address
// itself for IPv4, its /64 for IPv6. Keyed by full IPv6 address, a single
// attacker would get a fresh bucket for every address it rotates to, and
// the limit would limit nothing. A mapped IPv4 address counts as IPv4.
// Anything that does not parse (the empty string when no address is
// known) is returned unchanged, so it still shares one bucket.
func Key(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	// WithZone: a zone (fe80::1%eth0) would make every interface a key of
	// its own; the prefix is what one host controls.
	p, _ := a.WithZone("").Prefix(ipv6KeyBits)
	return p.String()
}
