package login

import (
	"net/url"
	"slices"
)

// CallbackError is a provider's error response at the callback (RFC 6749
// §4.1.2.1): the user refused consent (access_denied), or the provider
// could not serve the request. It is a verdict on this login only.
type CallbackError struct {
	// Code is the provider's error code when it is one RFC 6749 §4.1.2.1
	// or OpenID Connect Core 1.0 §3.1.2.6 registers, else "other". The
	// query is attacker-controlled (anyone can open the callback URL), so
	// only a code from the fixed list reaches logs and audit.
	Code string
}

func (e *CallbackError) Error() string { return "login: the provider answered error " + e.Code }

// callbackErrorCodes are the registered authorization error codes.
var callbackErrorCodes = []string{
	"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
	"invalid_scope", "server_error", "temporarily_unavailable",
	"interaction_required", "login_required", "account_selection_required",
	"consent_required", "invalid_request_uri", "invalid_request_object",
	"request_not_supported", "request_uri_not_supported", "registration_not_supported",
}

// CallbackErrorFrom returns the provider's error response in q, or nil
// when q carries no error parameter.
func CallbackErrorFrom(q url.Values) error {
	if !q.Has("error") {
		return nil
	}
	code := q.Get("error")
	if !slices.Contains(callbackErrorCodes, code) {
		code = "other"
	}
	return &CallbackError{Code: code}
}
