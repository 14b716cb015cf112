package server_test

import (
	"net/http"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

const (
	evilOrigin      = "https://evil.example"
	inspectorOrigin = "http://localhost:6274" // MCP Inspector's default
)

// noCredentials fails if an answer allows credentials: no endpoint of
// the gateway takes cookies across origins, and "*" with credentials
// would hand any page the user's session.
func noCredentials(t *testing.T, what string, h http.Header) {
	t.Helper()
	if v := h.Values("Access-Control-Allow-Credentials"); len(v) > 0 {
		t.Errorf("%s: Access-Control-Allow-Credentials %q (never sent)", what, v)
	}
	if v := h.Values("Access-Control-Allow-Origin"); len(v) > 1 {
		t.Errorf("%s: %d Access-Control-Allow-Origin headers %q", what, len(v), v)
	}
}

func preflight(t *testing.T, g *testenv.Gateway, path, origin string) *http.Response {
	t.Helper()
	return do(t, g, newRequest(t, g, http.MethodOptions, path, "", map[string]string{
		"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}))
}

// TestCORSForeignOriginOnMCPRoutes: a page on an origin not in
// allowed_origins gets no Access-Control-Allow-Origin from an MCP route,
// for a real request (which the pipeline refuses, 403) or a preflight
// (refused with no allow headers, so the browser never sends the real
// one); "null" and case games count as foreign. An upstream's own
// "Access-Control-Allow-Origin: *" with credentials never reaches the
// client. An allowed origin (here the Inspector's, configured) gets its
// own origin echoed, never "*".
func TestCORSForeignOriginOnMCPRoutes(t *testing.T) {
	g := headerGateway(t, sseUpstream, func(c *config.Config) {
		c.AllowedOrigins = []string{inspectorOrigin}
	})
	for _, origin := range []string{evilOrigin, "null", "https://evil.example.", "http://localhost:6275", "http://LOCALHOST:6274.evil.example"} {
		pre := preflight(t, g, testenv.FilesPath, origin)
		if pre.StatusCode != http.StatusForbidden {
			t.Errorf("preflight from %s: %d, want 403", origin, pre.StatusCode)
		}
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers"} {
			if v := pre.Header.Get(k); v != "" {
				t.Errorf("preflight from %s: %s %q", origin, k, v)
			}
		}
		noCredentials(t, "preflight from "+origin, pre.Header)

		post := do(t, g, newRequest(t, g, http.MethodPost, testenv.FilesPath, `{"jsonrpc":"2.0","id":1,"method":"ping"}`,
			map[string]string{"Content-Type": "application/json", "Origin": origin}))
		if post.StatusCode != http.StatusForbidden || post.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("POST from %s: %d with ACAO %q, want 403 without", origin, post.StatusCode, post.Header.Get("Access-Control-Allow-Origin"))
		}
		noCredentials(t, "POST from "+origin, post.Header)
	}

	pre := preflight(t, g, testenv.FilesPath, inspectorOrigin)
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != inspectorOrigin {
		t.Errorf("preflight from the allowed %s: %d, ACAO %q", inspectorOrigin, pre.StatusCode, pre.Header.Get("Access-Control-Allow-Origin"))
	}
	noCredentials(t, "allowed preflight", pre.Header)

	_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, testenv.Alice)
	// The MCP route refuses any Host but public_url's, so the request
	// goes out with the Inspector's Origin and the gateway's Host.
	stream := do(t, g, newRequest(t, g, http.MethodGet, testenv.FilesPath, "", map[string]string{
		"Authorization": "Bearer " + rep.Get("access_token"), "Accept": "text/event-stream", "Origin": inspectorOrigin}))
	if stream.StatusCode != http.StatusOK {
		t.Fatalf("stream from the allowed origin: %d", stream.StatusCode)
	}
	if got := stream.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != inspectorOrigin {
		t.Errorf("stream ACAO %q, want only %s (the upstream's * dropped)", got, inspectorOrigin)
	}
	if got := stream.Header.Values("X-Frame-Options"); len(got) != 1 || got[0] != "DENY" {
		t.Errorf("stream X-Frame-Options %q, want only DENY (the upstream's dropped)", got)
	}
	noCredentials(t, "stream", stream.Header)
}

// TestCORSOnlyWhereBrowsersNeedIt: the public endpoints answer any origin
// with "*" and never credentials; the browser pages and introspection
// answer no origin at all, and a preflight there is not granted.
func TestCORSOnlyWhereBrowsersNeedIt(t *testing.T) {
	g := headerGateway(t, sseUpstream, nil)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/oauth/jwks", "/oauth/token", "/oauth/revoke",
		"/oauth/register", "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource" + testenv.FilesPath} {
		pre := preflight(t, g, path, evilOrigin)
		if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("preflight %s: %d, ACAO %q; want 204 and *", path, pre.StatusCode, pre.Header.Get("Access-Control-Allow-Origin"))
		}
		noCredentials(t, "preflight "+path, pre.Header)
	}
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/oauth/jwks", "/.well-known/oauth-protected-resource"} {
		resp := do(t, g, newRequest(t, g, http.MethodGet, path, "", map[string]string{"Origin": evilOrigin}))
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s: ACAO %q, want *", path, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		noCredentials(t, "GET "+path, resp.Header)
	}
	for _, path := range []string{"/oauth/authorize", "/oauth/login", "/oauth/consent", "/healthz", "/nowhere"} {
		resp := do(t, g, newRequest(t, g, http.MethodGet, path, "", map[string]string{"Origin": evilOrigin}))
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("GET %s: ACAO %q, want none", path, v)
		}
		noCredentials(t, "GET "+path, resp.Header)
	}
	for _, path := range []string{"/oauth/introspect", "/oauth/login", "/oauth/consent", "/oauth/logout"} {
		pre := preflight(t, g, path, evilOrigin)
		if pre.StatusCode == http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "" || pre.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight %s: %d with %v; want no grant", path, pre.StatusCode, pre.Header)
		}
	}
}
