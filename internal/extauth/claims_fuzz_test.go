package extauth

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestScopeClaimSeparator: a scope claim splits on single spaces only,
// and a value that is no scope-token grants nothing.
func TestScopeClaimSeparator(t *testing.T) {
	for raw, want := range map[string][]string{
		`"read\tadmin"`:          nil,
		`"read\u00a0admin"`:      nil,
		`"read  write read"`:     {"read", "write"},
		`["read admin","write"]`: {"write"},
	} {
		var s stringOrList
		if err := json.Unmarshal([]byte(raw), &s); err != nil || !slices.Equal(s, want) {
			t.Errorf("%s: scopes %q, %v; want %q", raw, s, err, want)
		}
	}
}

// FuzzDecodeClaims decodes arbitrary claim sets of an external
// authorization server's token or introspection answer. Oracle: a claim
// set that decodes has a subject and an expiry; every scope is a valid
// RFC 6749 scope-token (no whitespace of any kind) taken whole from the
// claim (a SP-delimited field of the string form, or an element of the
// array form); and a string aud is one audience, never split.
func FuzzDecodeClaims(f *testing.F) {
	for _, s := range []string{
		`{"sub":"u","exp":2000000000,"scope":"read write","aud":"api://mcp other"}`,
		`{"sub":"u","exp":2000000000,"scope":"read\tadmin"}`,
		`{"sub":"u","exp":2000000000,"scope":"read\u00a0admin","aud":["a","b"]}`,
		`{"sub":"u","exp":2000000000,"scope":["read admin","x"]}`,
		`{"sub":"","exp":1}`,
		`{"sub":"u","exp":"soon","scope":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var raw rawClaims
		if json.Unmarshal(in, &raw) != nil {
			return
		}
		c, _, problem := decodeClaims(raw, "scope")
		if problem != "" {
			return
		}
		if c.Subject == "" || c.Expiry.IsZero() {
			t.Fatalf("%s: accepted without sub or exp", in)
		}
		var str string
		var list []string
		isStr := json.Unmarshal(raw["scope"], &str) == nil
		json.Unmarshal(raw["scope"], &list)
		for _, s := range c.Scopes {
			if strings.ContainsFunc(s, func(r rune) bool { return r <= 0x20 || r > 0x7e || r == '"' || r == '\\' }) {
				t.Fatalf("%s: scope %q is no scope-token", in, s)
			}
			if isStr && !slices.Contains(strings.Split(str, " "), s) || !isStr && !slices.Contains(list, s) {
				t.Fatalf("%s: scope %q is not a whole field of the claim", in, s)
			}
		}
		var aud string
		if json.Unmarshal(raw["aud"], &aud) == nil && (len(c.Audience) != 1 || c.Audience[0] != aud) {
			t.Fatalf("%s: string aud %q read as %q", in, aud, c.Audience)
		}
	})
}
