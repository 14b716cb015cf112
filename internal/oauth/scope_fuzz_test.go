package oauth

import (
	"slices"
	"strings"
	"testing"
)

// descChar: the characters RFC 6749 §5.2 allows in error_description.
func descChar(c byte) bool {
	return c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)
}

// TestParseScopeSeparator: only SP separates scopes; a tab or a Unicode
// space makes the parameter malformed instead of smuggling a second
// scope past the client's own reading.
func TestParseScopeSeparator(t *testing.T) {
	for _, raw := range []string{"files:read\tadmin", "files:read\u00a0admin", "files:read\u3000admin", `files:"read"`} {
		if got, ok := parseScope(raw); ok {
			t.Errorf("parseScope(%q) = %q, want malformed", raw, got)
		}
	}
	if got, ok := parseScope("files:read  offline_access files:read"); !ok || !slices.Equal(got, []string{"files:read", "offline_access"}) {
		t.Errorf("parseScope = %q, %v", got, ok)
	}
}

// FuzzScopeParam: an accepted scope parameter yields distinct tokens made
// only of scope-token characters, each a whole SP-delimited field of the
// input (nothing split on other whitespace), covering every non-empty
// field; and the description quoting of any string holds only
// error_description characters, quoting a short valid token verbatim.
func FuzzScopeParam(f *testing.F) {
	for _, s := range []string{"openid files:read", "a\tb", "x\u00a0y", `"`, "\\", "a  a", strings.Repeat("z", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q := quoteScope(raw)
		for i := 0; i < len(q); i++ {
			if !descChar(q[i]) {
				t.Fatalf("quoteScope(%q) = %q: byte %#x not allowed in error_description", raw, q, q[i])
			}
		}
		got, ok := parseScope(raw)
		if !ok {
			return
		}
		var fields []string
		for _, fld := range strings.Split(raw, " ") {
			if fld != "" && !slices.Contains(fields, fld) {
				fields = append(fields, fld)
			}
		}
		if !slices.Equal(got, fields) {
			t.Fatalf("parseScope(%q) = %q, SP fields %q", raw, got, fields)
		}
		for _, s := range got {
			for i := 0; i < len(s); i++ {
				if c := s[i]; c <= 0x20 || c > 0x7e || c == '"' || c == '\\' {
					t.Fatalf("parseScope(%q) accepted %q", raw, s)
				}
			}
			if len(s) <= 64 && quoteScope(s) != "'"+s+"'" {
				t.Fatalf("quoteScope(%q) = %q", s, quoteScope(s))
			}
		}
	})
}
