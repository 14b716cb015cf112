package proxy

import (
	"encoding/json"
	"net/http"
)

// prmDocument is RFC 9728 §2 protected resource metadata.
type prmDocument struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
}

// servePRM serves the route's metadata (SPEC PX-1). It is public and
// carries no credentials, so any origin may read it (browser-based MCP
// clients fetch it across origins).
func (rt *route) servePRM(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "MCP-Protocol-Version")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	doc := prmDocument{
		Resource: rt.resource, AuthorizationServers: []string{rt.as},
		ScopesSupported: rt.scopesSupported, BearerMethodsSupported: []string{"header"},
		ResourceName: rt.up.Name,
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	w.Write(append(b, '\n'))
}
