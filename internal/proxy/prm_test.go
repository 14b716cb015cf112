package proxy_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// gatewayPlaceholder replaces the gateway's random origin in golden files.
const gatewayPlaceholder = "http://GATEWAY"

// TestProtectedResourceMetadata: each upstream's RFC 9728 document, at
// its path-suffixed well-known URL and (for the first) at the root, names
// the resource (the token audience), mcpgate as authorization server and
// every scope a client may need, rule scopes included (SPEC PX-1). It is
// public and readable from any origin.
func TestProtectedResourceMetadata(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.Upstreams[0].Tools = []config.ToolRule{
			{Match: "write_*", Scopes: []string{"files:write"}},
			{Match: "nuke", Deny: true},
			{Match: "staff_*", Groups: []string{"staff"}, Scopes: []string{"files:read"}},
		}
	})
	cases := []struct{ path, golden, resource string }{
		{"/.well-known/oauth-protected-resource/mcp/files", "prm_files.golden", g.URL + testenv.FilesPath},
		{"/.well-known/oauth-protected-resource", "prm_root.golden", g.URL + testenv.FilesPath},
		{"/.well-known/oauth-protected-resource/mcp/admin", "prm_admin.golden", g.URL + testenv.AdminPath},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			r := call(t, g, http.MethodGet, c.path, "", "", func(r *http.Request) {
				r.Header.Set("Origin", "https://other.example")
				r.Header.Set("Accept", "application/json")
			})
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", c.path, r.Status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if acao := r.Header.Get("Access-Control-Allow-Origin"); acao != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want *", acao)
			}
			var doc struct {
				Resource             string   `json:"resource"`
				AuthorizationServers []string `json:"authorization_servers"`
				ScopesSupported      []string `json:"scopes_supported"`
				BearerMethods        []string `json:"bearer_methods_supported"`
			}
			if err := json.Unmarshal([]byte(r.Body), &doc); err != nil {
				t.Fatalf("%v\n%s", err, r.Body)
			}
			if doc.Resource != c.resource {
				t.Errorf("resource %q, want %q", doc.Resource, c.resource)
			}
			if !slices.Equal(doc.AuthorizationServers, []string{g.URL}) {
				t.Errorf("authorization_servers %q, want [%s]", doc.AuthorizationServers, g.URL)
			}
			if !slices.Equal(doc.BearerMethods, []string{"header"}) {
				t.Errorf("bearer_methods_supported %q, want [header] (never query or body)", doc.BearerMethods)
			}
			if c.resource == g.URL+testenv.FilesPath && !slices.Equal(doc.ScopesSupported, []string{"files:read", "files:write"}) {
				t.Errorf("scopes_supported %q, want files:read and the rule's files:write, once each", doc.ScopesSupported)
			}
			requireGolden(t, c.golden, []byte(strings.ReplaceAll(r.Body, g.URL, gatewayPlaceholder)))
		})
	}

	// The challenge's resource_metadata is where the document is.
	r := post(t, g, testenv.FilesPath, "", pingBody, nil)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `resource_metadata="`+g.URL+cases[0].path+`"`) {
		t.Errorf("challenge %q does not point at %s", r.Header.Get("WWW-Authenticate"), cases[0].path)
	}

	// A CORS preflight from a browser-based client.
	pre := call(t, g, http.MethodOptions, cases[0].path, "", "", func(r *http.Request) {
		r.Header.Set("Origin", "https://other.example")
		r.Header.Set("Access-Control-Request-Method", "GET")
		r.Header.Set("Access-Control-Request-Headers", "mcp-protocol-version")
	})
	if pre.Status != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "GET") {
		t.Errorf("preflight: %d %v", pre.Status, pre.Header)
	}
}
