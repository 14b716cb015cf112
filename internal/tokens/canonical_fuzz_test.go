package tokens

import (
	"net/url"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/ascii"
)

// TestCanonicalResourceRefusesLookalikes: a host with the Kelvin sign
// (U+212A, which Unicode lower-cases to 'k') is not the ASCII host, and
// an IPv6 zone, which names an interface of the sender's machine, has no
// place in an audience.
func TestCanonicalResourceRefusesLookalikes(t *testing.T) {
	for _, raw := range []string{
		"https://mcp.\u212Aeep.example/mcp",
		"https://[fe80::1%25eth0]/mcp",
		"https://[fe80::1%25eth0]:8443",
	} {
		if c, err := CanonicalResource(raw); err == nil {
			t.Errorf("CanonicalResource(%q) = %q, want refused", raw, c)
		}
	}
}

// FuzzCanonicalResource: an accepted resource URI canonicalises to an
// ASCII http(s) URI that is its own canonical form (idempotent), whose
// host is the input's host up to A-Z letter case (no Unicode folding, no
// zone), with no userinfo, query or fragment; and the default port never
// survives.
func FuzzCanonicalResource(f *testing.F) {
	for _, s := range []string{
		"https://mcp.example.com/mcp",
		"HTTPS://MCP.example.com:443/mcp/",
		"http://127.0.0.1:80/",
		"https://[::1]:8443/a%2fb",
		"https://[fe80::1%25eth0]/mcp",
		"https://mcp.\u212Aeep.example/mcp",
		"https://h/%6Dcp/./x",
		"https://u@h/mcp",
		"https://h:0443/m?x#y",
		"https://h/\u00e9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := CanonicalResource(raw)
		if err != nil {
			return
		}
		again, err := CanonicalResource(c)
		if err != nil || again != c {
			t.Fatalf("%q -> %q -> %q, %v: not idempotent", raw, c, again, err)
		}
		for i := 0; i < len(c); i++ {
			if c[i] < 0x21 || c[i] > 0x7e {
				t.Fatalf("%q -> %q: byte %#x is not printable ASCII", raw, c, c[i])
			}
		}
		in, _ := url.Parse(raw)
		out, err := url.Parse(c)
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", raw, c, err)
		}
		if !ascii.EqualFold(in.Hostname(), out.Hostname()) || strings.Contains(out.Host, "%") {
			t.Fatalf("%q -> %q: host %q is not %q up to A-Z case", raw, c, out.Hostname(), in.Hostname())
		}
		if out.Scheme != "http" && out.Scheme != "https" || out.User != nil || out.RawQuery != "" || out.Fragment != "" {
			t.Fatalf("%q -> %q: bad scheme, userinfo, query or fragment", raw, c)
		}
		if (out.Scheme == "https" && out.Port() == "443") || (out.Scheme == "http" && out.Port() == "80") {
			t.Fatalf("%q -> %q: default port kept", raw, c)
		}
	})
}
