// Package oauth owns the authorization server's endpoints (SPEC section 4):
// metadata, authorize, consent, login, token, registration, revocation and
// introspection, one file per endpoint, with the shared steps of every
// grant in one dispatcher (token.go) and every error written in one place
// (errors.go).
package oauth
