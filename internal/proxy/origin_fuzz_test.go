package proxy

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// referenceSameOrigin is the DNS-rebinding check written independently:
// an ASCII Host equal to the public host up to ASCII letter case, and no
// Origin or exactly one ASCII Origin that lower-cases to an allowed one.
// On ASCII strings strings.EqualFold folds only A-Z.
func referenceSameOrigin(host string, origins []string, wantHost string, allowed []string) bool {
	if !isASCII(host) || !strings.EqualFold(host, wantHost) {
		return false
	}
	switch len(origins) {
	case 0:
		return true
	case 1:
		return isASCII(origins[0]) && slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, origins[0]) })
	}
	return false
}

// TestSameOriginKelvin: the Kelvin sign (U+212A), which Unicode folds
// to 'k', neither passes for a 'k' in the Host nor in the Origin.
func TestSameOriginKelvin(t *testing.T) {
	p := &Proxy{host: "mcp.keep.example", origins: []string{"https://app.keep.example"}}
	for _, c := range []struct {
		host, origin string
		want         bool
	}{
		{"MCP.Keep.Example", "HTTPS://APP.KEEP.EXAMPLE", true},
		{"mcp.\u212Aeep.example", "", false},
		{"mcp.keep.example", "https://app.\u212Aeep.example", false},
	} {
		r := &http.Request{Host: c.host, Header: http.Header{}}
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if got := p.sameOrigin(r); got != c.want {
			t.Errorf("Host %q Origin %q: sameOrigin %v, want %v", c.host, c.origin, got, c.want)
		}
	}
}

// FuzzSameOrigin checks the DNS-rebinding defence (SPEC PX-10) against
// referenceSameOrigin for any Host and up to two Origin headers.
func FuzzSameOrigin(f *testing.F) {
	f.Add("mcp.keep.example", "https://app.keep.example", "", uint8(1))
	f.Add("MCP.KEEP.EXAMPLE", "HTTPS://App.Keep.Example", "", uint8(1))
	f.Add("mcp.\u212Aeep.example", "", "", uint8(0))
	f.Add("mcp.keep.example", "https://app.\u212Aeep.example", "", uint8(1))
	f.Add("mcp.keep.example", "https://app.keep.example", "https://app.keep.example", uint8(2))
	f.Add("mcp.keep.example:443", "null", "", uint8(1))
	p := &Proxy{host: "mcp.keep.example", origins: []string{"https://app.keep.example", "http://localhost:3000"}}
	f.Fuzz(func(t *testing.T, host, o1, o2 string, n uint8) {
		origins := []string{o1, o2}[:n%3]
		r := &http.Request{Host: host, Header: http.Header{"Origin": origins}}
		got := p.sameOrigin(r)
		if want := referenceSameOrigin(host, origins, p.host, p.origins); got != want {
			t.Fatalf("Host %q Origin %q: sameOrigin %v, reference %v", host, origins, got, want)
		}
	})
}
