package oauth

import (
	"net/http"

	"github.com/mcpgate/mcpgate/internal/ratelimit"
)

// Rate limits (SPEC RL-1). The limiter, the 429 headers, the metric and
// the audit event are ratelimit.Guard's; these only choose the body: an
// HTML page for the browser endpoints, an OAuth JSON error for the others.
//
// The error code is too_many_requests. OAuth defines none for this:
// slow_down (RFC 8628 §3.5) belongs to device-code polling,
// temporarily_unavailable (RFC 6749 §4.1.2.1) only to the authorization
// redirect and means the server is overloaded, and invalid_request would
// tell the client its request is malformed, so it would never retry.
// RFC 6749 §8.5 allows extension codes; a client that does not know this
// one still has the 429 status and Retry-After (RFC 6585 §4).
const codeTooManyRequests = "too_many_requests"

// allowPage applies l to a browser endpoint's request and, on refusal,
// shows the error page. Never redirected: the limit runs before the client
// and its redirect URI are checked.
func (p *Provider) allowPage(w http.ResponseWriter, r *http.Request, endpoint string, l ratelimit.Limit, k ratelimit.Key) bool {
	if p.Limits.Allow(w, r, endpoint, l, k) {
		return true
	}
	p.showError(w, r, &Error{Code: codeTooManyRequests, Status: http.StatusTooManyRequests, NoRedirect: true,
		Description: "Too many requests from this address. Wait a moment and start again from the application."})
	return false
}

// limitJSON applies l to a JSON endpoint's request; on refusal it returns
// the error for the endpoint to write (writeJSONError), the headers being
// set already.
func (p *Provider) limitJSON(w http.ResponseWriter, r *http.Request, endpoint string, l ratelimit.Limit, k ratelimit.Key) *Error {
	if p.Limits.Allow(w, r, endpoint, l, k) {
		return nil
	}
	return &Error{Code: codeTooManyRequests, Status: http.StatusTooManyRequests,
		Description: "Too many requests; wait as long as Retry-After says and try again."}
}
