package cors

import (
	"net/http"
	"slices"

	"github.com/mcpgate/mcpgate/internal/ascii"
)

// Policy is the cross-origin policy of a set of endpoints.
//
// No policy ever sends Access-Control-Allow-Credentials: the gateway's
// cross-origin endpoints take bearer tokens or client credentials in
// headers and bodies, never cookies, so no page needs its user's cookies
// sent along, and with credentials allowed a foreign page could ride the
// user's session at the authorization server. That also rules out the
// dangerous pair "Allow-Origin: *" with "Allow-Credentials: true" by
// construction.
type Policy struct {
	// Origins are the origins allowed, compared byte for byte with the
	// Origin header (canonical form, as config validates them). Nil
	// allows every origin with "*": for public documents and endpoints
	// whose every caller authenticates itself in the request.
	Origins []string
	// Methods answer Access-Control-Allow-Methods in a preflight.
	Methods string
	// AllowHeaders answer Access-Control-Allow-Headers in a preflight.
	AllowHeaders string
	// ExposeHeaders lets a page read these response headers besides the
	// CORS-safelisted ones.
	ExposeHeaders string
}

// maxAge is how long a browser may cache a preflight answer (seconds).
// Short, so a change of allowed_origins takes effect soon.
const maxAge = "600"

// Wrap answers preflight requests (OPTIONS) itself and adds the
// cross-origin headers to every other answer of next.
//
// With an allow-list, a foreign Origin gets no CORS header at all, so the
// browser keeps the answer from the page; its preflight is refused with
// 403 before next runs. Vary: Origin is always sent, so a shared cache
// never serves one origin's answer to another.
func (p Policy) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		allowed := p.allow(h, r)
		if r.Method != http.MethodOptions {
			if p.ExposeHeaders != "" && h.Get("Access-Control-Allow-Origin") != "" {
				h.Set("Access-Control-Expose-Headers", p.ExposeHeaders)
			}
			next.ServeHTTP(w, r)
			return
		}
		if !allowed {
			// A preflight from a foreign origin learns nothing; the
			// browser then never sends the real request.
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if r.Header.Get("Origin") != "" {
			h.Set("Access-Control-Allow-Methods", p.Methods)
			h.Set("Access-Control-Allow-Headers", p.AllowHeaders)
			h.Set("Access-Control-Max-Age", maxAge)
		}
		h.Set("Allow", p.Methods)
		w.WriteHeader(http.StatusNoContent)
	})
}

// allow sets Access-Control-Allow-Origin when the request's origin may
// read the answer and reports whether the request may go on. A request
// without Origin (not from a browser page, or same-origin GET) gets no
// CORS headers and goes on: CORS restricts browsers, never other clients.
func (p Policy) allow(h http.Header, r *http.Request) bool {
	if p.Origins == nil {
		h.Set("Access-Control-Allow-Origin", "*")
		return true
	}
	h.Add("Vary", "Origin")
	origins := r.Header.Values("Origin")
	switch {
	case len(origins) == 0:
		return true
	case len(origins) == 1 && slices.Contains(p.Origins, ascii.Lower(origins[0])):
		// ASCII folding only: Unicode would lower the Kelvin sign
		// U+212A to 'k' and let a foreign origin pass for a listed one.
		h.Set("Access-Control-Allow-Origin", ascii.Lower(origins[0]))
		return true
	}
	return false
}
