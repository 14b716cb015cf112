package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// referenceBearer reads RFC 6750 §2.1 credentials: "Bearer" in any ASCII
// letter case, one or more SP, and a token of visible ASCII (no control
// byte, space or non-ASCII byte, which no token issuer produces and which
// would otherwise travel on into logs and introspection requests).
func referenceBearer(h string) (string, bool) {
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") || strings.ContainsFunc(h[:7], func(r rune) bool { return r > 0x7e }) {
		return "", false
	}
	tok := strings.TrimLeft(h[7:], " ")
	if tok == "" {
		return "", false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x21 || tok[i] > 0x7e {
			return "", false
		}
	}
	return tok, true
}

// FuzzBearerToken: bearerToken returns a token exactly when
// referenceBearer reads one from the single Authorization header, and
// the same token; a query carrying access_token or a second header is
// always refused.
func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer abc.def.ghi", "", false)
	f.Add("bearer  abc", "", false)
	f.Add("Bearer a b", "", false)
	f.Add("Bearer a\tb", "", false)
	f.Add("Bearer \x00abc", "", false)
	f.Add("Bearer ab\u00e9", "", false)
	f.Add("Basic Zm9vOmJhcg==", "", false)
	f.Add("Bearer abc", "access_token=abc", false)
	f.Add("Bearer abc", "", true)
	f.Fuzz(func(t *testing.T, h, query string, twice bool) {
		r := &http.Request{URL: &url.URL{RawQuery: query}, Header: http.Header{"Authorization": {h}}}
		if twice {
			r.Header.Add("Authorization", h)
		}
		tok, problem := bearerToken(r)
		if twice || r.URL.Query().Has("access_token") {
			if problem == "" || problem == errNoToken {
				t.Fatalf("header %q query %q twice %v: not refused (%q, %q)", h, query, twice, tok, problem)
			}
			return
		}
		want, ok := referenceBearer(h)
		if (problem == "") != ok || tok != want {
			t.Fatalf("bearerToken(%q) = %q, %q; reference %q, %v", h, tok, problem, want, ok)
		}
	})
}
