package config

import (
	"errors"
	"strings"
	"testing"
)

// TestTrustedProxies: a proxy list names proxies. Prefixes wider than /8
// (IPv4) or /16 (IPv6) are refused, IPv4-mapped IPv6 prefixes are held to
// the IPv4 bound, and an IPv6 prefix holding all of ::ffff:0:0/96 is
// refused; together those close the "several halves add up to everyone"
// bypass of the /0 check (SPEC HD-3).
func TestTrustedProxies(t *testing.T) {
	const wide = "is too wide"
	for s, want := range map[string]string{
		"10.1.2.3":            "",
		"::ffff:10.1.2.3":     "",
		"10.0.0.0/8":          "",
		"192.168.0.0/16":      "",
		"2001:db8::/32":       "",
		"fd12:3456:789a::/48": "",
		"2001::/16":           "",
		"::ffff:10.0.0.0/104": "",
		"::ffff:10.1.2.3/128": "",
		"::/96":               "",
		"0.0.0.0/0":           "trusts every address",
		"::/0":                "trusts every address",
		"::ffff:0:0/96":       "trusts every address",
		"0.0.0.0/1":           wide,
		"128.0.0.0/1":         wide,
		"10.0.0.0/7":          wide,
		"::/1":                wide,
		"8000::/1":            wide,
		"2000::/3":            wide,
		"fc00::/7":            wide,
		"fd00::/8":            wide,
		"::ffff:0:0/97":       wide,
		"::ffff:10.0.0.0/103": wide,
		"::/80":               "covers every IPv4-mapped address",
		"::/16":               "covers every IPv4-mapped address",
		"10.1.2.3/8":          "has host bits set",
		"::ffff:10.1.2.3/104": "has host bits set",
		"10.1.2.3/0":          "trusts every address",
		"not-an-ip":           "invalid IP address",
		"10.0.0.0/33":         "invalid CIDR",
		"fe80::1%eth0/64":     "invalid CIDR",
	} {
		got := proxyProblem(s)
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("proxyProblem(%q) = %q, want it to contain %q", s, got, want)
		}
	}
}

// TestMetricsListen: metrics.listen is compared with listen as the socket
// it binds, not as a string: a wildcard host binds the port on every
// interface.
func TestMetricsListen(t *testing.T) {
	for _, tc := range []struct {
		listen, metrics string
		clash           bool
	}{
		{":8080", "0.0.0.0:8080", true},
		{"0.0.0.0:8080", ":8080", true},
		{":8080", "[::]:8080", true},
		{"[::]:8080", "127.0.0.1:8080", true},
		{"0.0.0.0:8080", "10.0.0.5:8080", true},
		{"10.0.0.5:8080", ":8080", true},
		{"127.0.0.1:8080", "127.0.0.1:8080", true},
		{"127.0.0.1:8080", "localhost:8080", true},
		{"LOCALHOST:8080", "localhost:8080", true},
		{"[::1]:8080", "[0:0:0:0:0:0:0:1]:8080", true},
		{"[::1]:8080", "localhost:8080", true},
		{"127.0.0.1:8080", "127.0.0.1:08080", true},
		{"127.0.0.1:8080", "127.0.0.2:8080", false},
		{"127.0.0.1:8080", "127.0.0.1:9090", false},
		{":8080", ":9090", false},
		{"10.0.0.5:8080", "127.0.0.1:8080", false},
		{"127.0.0.1:0", "127.0.0.1:0", false},
		{":0", ":0", false},
	} {
		c := goConfig()
		c.PublicURL, c.TrustedProxies = "https://mcp.example.com", []string{"10.1.2.3"}
		c.Listen, c.Metrics.Listen = tc.listen, tc.metrics
		var ps Problems
		errors.As(c.Validate(), &ps)
		if got := hasPath(ps, "metrics.listen"); got != tc.clash {
			t.Errorf("listen %q, metrics.listen %q: clash = %v, want %v (%v)", tc.listen, tc.metrics, got, tc.clash, ps)
		}
		if hasPath(ps, "listen") {
			t.Errorf("listen %q: unexpected problem: %v", tc.listen, ps)
		}
	}
}
