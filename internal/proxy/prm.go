package proxy

import (
	"encoding/json"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/cors"
)

// prmDocument is RFC 9728 §2 protected resource metadata.
type prmDocument struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
}

// prmCORS: the metadata is public and carries no credentials, so any
// origin may read it (browser-based MCP clients fetch it across origins).
var prmCORS = cors.Policy{Methods: "GET, OPTIONS", AllowHeaders: "MCP-Protocol-Version"}

// servePRM serves the route's metadata (SPEC PX-1).
func (rt *route) servePRM(w http.ResponseWriter, r *http.Request) {
	doc := prmDocument{
		Resource: rt.resource, AuthorizationServers: []string{rt.as},
		ScopesSupported: rt.scopesSupported, BearerMethodsSupported: []string{"header"},
		ResourceName: rt.up.Name,
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	w.Write(append(b, '\n'))
}
