package session

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// canonicalSecret: exactly the unpadded base64url of 32 bytes, in the one
// spelling an encoder produces.
func canonicalSecret(v string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(v)
	return err == nil && len(b) == secretBytes && base64.RawURLEncoding.EncodeToString(b) == v
}

// TestWellFormedOneSpelling: a cookie value whose last character sets
// bits past the 256th is no value this package minted.
func TestWellFormedOneSpelling(t *testing.T) {
	v := newSecret()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	bad := v[:len(v)-1] + string(alphabet[strings.IndexByte(alphabet, v[len(v)-1])|1])
	if wellFormed(bad) {
		t.Fatalf("non-canonical %q (of %q) is well formed", bad, v)
	}
	if !wellFormed(v) {
		t.Fatalf("minted %q is not well formed", v)
	}
}

// FuzzFlowValues: from any flow cookie a browser sends, the values kept
// are the canonical secrets among its dot-separated fields, in order,
// the newest maxFlows of them; session cookie values pass wellFormed
// exactly when canonical.
func FuzzFlowValues(f *testing.F) {
	a, b := newSecret(), newSecret()
	f.Add(a + "." + b)
	f.Add(a + ".." + b + ".junk")
	f.Add(strings.Repeat(a+".", 6))
	f.Add(a[:42] + "B")
	f.Add(`"` + a + `"`)
	f.Fuzz(func(t *testing.T, raw string) {
		if wellFormed(raw) != canonicalSecret(raw) {
			t.Fatalf("wellFormed(%q) = %v", raw, wellFormed(raw))
		}
		r := &http.Request{Header: http.Header{"Cookie": {"__Host-mcpgate_flow=" + raw}}}
		got := flowValues(r, "__Host-mcpgate_flow")
		c, err := r.Cookie("__Host-mcpgate_flow")
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("values %q from an unreadable cookie", got)
			}
			return
		}
		var want []string
		for _, v := range strings.Split(c.Value, ".") {
			if canonicalSecret(v) {
				want = append(want, v)
			}
		}
		want = want[max(len(want)-maxFlows, 0):]
		if !slices.Equal(got, want) {
			t.Fatalf("flowValues(%q) = %q, want %q", raw, got, want)
		}
	})
}
