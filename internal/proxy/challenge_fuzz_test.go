package proxy

import (
	"slices"
	"strings"
	"testing"
)

// parseChallenge is a reference reader of one RFC 9110 §11.6.1 challenge
// whose parameters are all quoted-strings (RFC 9110 §5.6.4, with
// quoted-pair): the scheme and the parameters in order, or false when the
// value does not parse.
func parseChallenge(h string) (string, [][2]string, bool) {
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return "", nil, false
	}
	var params [][2]string
	for {
		name, after, ok := strings.Cut(rest, `="`)
		if !ok || name == "" || strings.ContainsAny(name, " ,\"") {
			return "", nil, false
		}
		var val strings.Builder
		i := 0
		for ; i < len(after) && after[i] != '"'; i++ {
			if after[i] == '\\' {
				i++
				if i == len(after) {
					return "", nil, false
				}
			}
			val.WriteByte(after[i])
		}
		if i == len(after) {
			return "", nil, false
		}
		params = append(params, [2]string{name, val.String()})
		rest = after[i+1:]
		if rest == "" {
			return scheme, params, true
		}
		if rest, ok = strings.CutPrefix(rest, ", "); !ok {
			return "", nil, false
		}
	}
}

// FuzzChallenge: whatever scope names reach the WWW-Authenticate builder,
// the header parses as one Bearer challenge whose parameters are exactly
// error (when given), resource_metadata and scope, and scope holds
// exactly the valid scope-tokens given: a '"' in a name cannot close the
// quoted string and append a parameter of its own.
func FuzzChallenge(f *testing.F) {
	f.Add("files:read", "")
	f.Add(`x" error="invalid_token`, "y")
	f.Add(`a\`, `b"`)
	f.Add("read\tx", "")
	const prm = "https://gw.example/.well-known/oauth-protected-resource/files"
	f.Fuzz(func(t *testing.T, s1, s2 string) {
		in := []string{s1, s2}
		h := challenge("insufficient_scope", prm, in)
		scheme, params, ok := parseChallenge(h)
		if !ok || scheme != "Bearer" {
			t.Fatalf("challenge for %q does not parse: %s", in, h)
		}
		var valid []string
		for _, s := range in {
			if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r <= 0x20 || r > 0x7e || r == '"' || r == '\\' }) {
				valid = append(valid, s)
			}
		}
		want := [][2]string{{"error", "insufficient_scope"}, {"resource_metadata", prm}}
		if len(valid) > 0 {
			want = append(want, [2]string{"scope", strings.Join(valid, " ")})
		}
		if !slices.Equal(params, want) {
			t.Fatalf("challenge for %q: %s; params %q, want %q", in, h, params, want)
		}
	})
}
