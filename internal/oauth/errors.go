package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/mcpgate/mcpgate/internal/reqid"
)

// Error is an OAuth error response (RFC 6749 §4.1.2.1, §5.2; RFC 7009 §2.2.1;
// RFC 7591 §3.2.2; RFC 8707 §2). Every error the endpoints return is one of
// these values, written out by one of the functions below, so no handler
// can leak a stack trace, SQL or an internal name: Description is always a
// fixed, client-safe sentence, and the cause goes to the log only.
type Error struct {
	Code        string
	Description string
	// Status is the HTTP status for JSON responses; 400 when zero.
	Status int
	// NoRedirect marks errors about the client or the redirect URI. Those
	// are shown on a page and never redirected (RFC 6749 §4.1.2.1): the
	// redirect URI is exactly what cannot be trusted, and redirecting would
	// make the AS an open redirector.
	NoRedirect bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// The error values. Constructors return fresh copies so a handler can set
// a description without touching the shared value.
func errInvalidRequest(desc string) *Error { return &Error{Code: "invalid_request", Description: desc} }
func errInvalidClient(desc string) *Error {
	return &Error{Code: "invalid_client", Description: desc, Status: http.StatusUnauthorized}
}
func errInvalidGrant(desc string) *Error { return &Error{Code: "invalid_grant", Description: desc} }
func errUnauthorizedClient(desc string) *Error {
	return &Error{Code: "unauthorized_client", Description: desc}
}
func errUnsupportedGrantType(desc string) *Error {
	return &Error{Code: "unsupported_grant_type", Description: desc}
}
func errInvalidScope(desc string) *Error  { return &Error{Code: "invalid_scope", Description: desc} }
func errInvalidTarget(desc string) *Error { return &Error{Code: "invalid_target", Description: desc} }
func errAccessDenied(desc string) *Error  { return &Error{Code: "access_denied", Description: desc} }
func errUnsupportedResponseType(desc string) *Error {
	return &Error{Code: "unsupported_response_type", Description: desc}
}
func errServer() *Error {
	return &Error{Code: "server_error", Description: "The server could not complete the request.", Status: http.StatusInternalServerError}
}
func errTemporarilyUnavailable(desc string) *Error {
	return &Error{Code: "temporarily_unavailable", Description: desc, Status: http.StatusServiceUnavailable}
}
func errInvalidClientMetadata(desc string) *Error {
	return &Error{Code: "invalid_client_metadata", Description: desc}
}

// pageError is an error about the client or its redirect URI: shown on a
// page, never redirected.
func pageError(code, desc string) *Error {
	return &Error{Code: code, Description: desc, NoRedirect: true}
}

// asError turns any error into an *Error; anything that is not one already
// is an internal failure and becomes server_error (its cause is logged by
// the caller, never sent).
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errServer()
}

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
}

// writeJSONError writes e as a JSON error body (token, register, revoke,
// introspect). invalid_client with HTTP Basic gets a WWW-Authenticate
// challenge (RFC 6749 §5.2).
func writeJSONError(w http.ResponseWriter, r *http.Request, e *Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if e.Code == "invalid_client" {
		if _, _, basic := r.BasicAuth(); basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="mcpgate"`)
		}
	}
	writeJSON(w, status, errorBody{Error: e.Code, Description: e.Description, RequestID: reqid.From(r.Context())})
}

// writeJSON writes v with the headers every AS JSON response carries:
// tokens and secrets must never be cached (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// redirectError sends the user agent back to the client with e (RFC 6749
// §4.1.2.1), echoing state and naming the issuer (RFC 9207 §2). Only call
// it once the client and redirect URI are known to be good.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, e *Error) {
	q := url.Values{"error": {e.Code}, "iss": {p.issuer}}
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	if state != "" {
		q.Set("state", state)
	}
	p.redirect(w, r, withQuery(redirectURI, q))
}

// redirect answers with 303 after a POST and 302 after a GET: a 307 would
// make the browser re-POST the login form, password included, to the
// client (RFC 9700 §4.12).
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, target string) {
	code := http.StatusFound
	if r.Method == http.MethodPost {
		code = http.StatusSeeOther
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, code)
}

// withQuery adds q to uri's query, keeping what is there (RFC 6749 §3.1.2:
// the redirect URI may carry a query that must be retained).
func withQuery(uri string, q url.Values) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	existing := u.Query()
	for k, vs := range q {
		existing[k] = vs
	}
	u.RawQuery = existing.Encode()
	return u.String()
}
