package extauth

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// FuzzCheckIntrospection: whatever an introspection endpoint answers
// (RFC 7662 §2.2), an accepted answer says active: true, names a subject,
// has an exp still ahead of the clock (with skew), an iss that is absent
// or exactly the configured issuer, and an aud that is or holds exactly
// the configured audience (or none, when implied_audience is set, and
// then the audience is the client ID); its scopes are whole, valid
// scope-tokens of the scope member.
func FuzzCheckIntrospection(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	for _, s := range []string{
		`{"active":true,"sub":"u","exp":1800003600,"aud":"api://mcp","scope":"mcp:read mcp:write","iss":"https://as.example"}`,
		`{"active":"true","sub":"u","exp":1800003600,"aud":"api://mcp"}`,
		`{"active":true,"active":false,"sub":"u","exp":1800003600,"aud":["x","api://mcp"]}`,
		`{"active":true,"sub":"u","exp":1800003600,"aud":"API://MCP"}`,
		`{"active":true,"sub":"u","exp":1799999999,"aud":"api://mcp"}`,
		`{"active":true,"sub":"u","exp":1800003600,"aud":"api://mcp","iss":null}`,
		`{"active":true,"sub":"u","exp":1800003600,"scope":"mcp:read\tadmin"}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, implied bool) {
		var raw rawClaims
		if json.Unmarshal(in, &raw) != nil {
			return
		}
		opts := Options{Issuer: "https://as.example", Audience: "api://mcp", Now: func() time.Time { return now }, Skew: 30 * time.Second}
		opts.Introspection = &Introspection{ClientID: "api://mcp", ImpliedAudience: implied}
		v := &Verifier{opts: opts}
		c, err := v.checkIntrospection(raw)
		if err != nil {
			return
		}
		var active bool
		var sub string
		var exp float64
		if json.Unmarshal(raw["active"], &active) != nil || !active {
			t.Fatalf("%s: accepted without active true", in)
		}
		if json.Unmarshal(raw["sub"], &sub) != nil || sub == "" || c.Subject != sub {
			t.Fatalf("%s: subject %q", in, c.Subject)
		}
		if json.Unmarshal(raw["exp"], &exp) != nil || int64(exp) <= now.Add(-opts.Skew).Unix() {
			t.Fatalf("%s: accepted with exp %v at %v", in, exp, now.Unix())
		}
		if iss, ok := raw["iss"]; ok && string(iss) != `"https://as.example"` {
			var s string
			if json.Unmarshal(iss, &s) != nil || s != opts.Issuer {
				t.Fatalf("%s: accepted with iss %s", in, iss)
			}
		}
		aud, hasAud := raw["aud"]
		var one string
		var list []string
		switch {
		case !hasAud:
			if !implied {
				t.Fatalf("%s: accepted without aud", in)
			}
		case json.Unmarshal(aud, &one) == nil:
			if one != opts.Audience {
				t.Fatalf("%s: accepted with aud %q", in, one)
			}
		case json.Unmarshal(aud, &list) == nil:
			if !slices.Contains(list, opts.Audience) {
				t.Fatalf("%s: accepted with aud %q", in, list)
			}
		default:
			t.Fatalf("%s: accepted with aud %s", in, aud)
		}
		var scope string
		json.Unmarshal(raw["scope"], &scope)
		for _, s := range c.Scopes {
			if !slices.Contains(scopeFields(scope), s) {
				t.Fatalf("%s: scope %q is not a whole field of %q", in, s, scope)
			}
		}
	})
}

// scopeFields splits on SP only and keeps fields of visible ASCII other
// than '"' and '\': the RFC 6749 §3.3 reading.
func scopeFields(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			f := s[start:i]
			ok := f != ""
			for j := 0; j < len(f); j++ {
				if f[j] < 0x21 || f[j] > 0x7e || f[j] == '"' || f[j] == '\\' {
					ok = false
				}
			}
			if ok {
				out = append(out, f)
			}
			start = i + 1
		}
	}
	return out
}
