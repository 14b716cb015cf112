package clientmeta

import "net/netip"

// Addresses a CIMD fetch may never reach (draft-ietf-oauth-client-id-
// metadata-document §6.5: nothing special-use per RFC 6890). The threat is
// SSRF: a client_id such as https://metadata.internal/... would make this
// server send requests into its own network (cloud metadata services,
// admin panels, databases) on an attacker's behalf.
//
// IPv4 addresses must be outside every block below and outside the
// private, loopback, link-local, multicast and unspecified ranges that
// netip already knows. IPv6 addresses must be global unicast (2000::/3)
// and outside the special blocks inside it; that one rule also excludes
// unique-local fc00::/7, link-local fe80::/10, multicast ff00::/8, the
// discard prefix 100::/64 and the NAT64 prefix 64:ff9b::/96 (which would
// reach private IPv4 through a translator).
var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	blocked        = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),       // "this network" (RFC 791)
		netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (RFC 6598)
		netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
		netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1 (RFC 5737)
		netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
		netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544)
		netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
		netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
		netip.MustParsePrefix("240.0.0.0/4"),     // reserved, incl. broadcast
		netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, incl. Teredo
		netip.MustParsePrefix("2001:db8::/32"),   // documentation (RFC 3849)
		netip.MustParsePrefix("2002::/16"),       // 6to4: embeds any IPv4, private too
		netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
	}
)

// publicAddr reports whether a may be dialled for a CIMD fetch. An
// IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address
// it carries, because that is where the packets go.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	switch {
	case !a.IsValid(), a.Zone() != "",
		a.IsUnspecified(), a.IsLoopback(), a.IsPrivate(),
		a.IsLinkLocalUnicast(), a.IsMulticast():
		return false
	case a.Is6() && !globalUnicast6.Contains(a):
		return false
	}
	for _, p := range blocked {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// admitted reports whether a may be dialled for a fetch whose URL authority
// is trusted (the end-to-end test option of SPEC AS-7): loopback is then
// admitted as well, and only loopback; every other rule still applies.
func admitted(a netip.Addr, trusted bool) bool {
	return publicAddr(a) || trusted && a.Unmap().IsLoopback()
}
