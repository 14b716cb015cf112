package proxy

import (
	"net/http"
	"slices"

	"github.com/mcpgate/mcpgate/internal/ascii"
)

// sameOrigin is the DNS-rebinding defence (SPEC PX-10). A page on
// evil.example whose name is rebound to the gateway's address makes the
// browser send Host: evil.example and Origin: https://evil.example; the
// Host must be the public URL's and a present Origin one of the allowed
// origins. Clients that are not browsers send no Origin. Letter case
// folds by ASCII only: under Unicode folding the Kelvin sign U+212A
// would pass for a 'k' of the configured names.
func (p *Proxy) sameOrigin(r *http.Request) bool {
	if !ascii.EqualFold(r.Host, p.host) {
		return false
	}
	origins := r.Header.Values("Origin")
	switch len(origins) {
	case 0:
		return true
	case 1:
		return slices.Contains(p.origins, ascii.Lower(origins[0]))
	}
	return false
}
