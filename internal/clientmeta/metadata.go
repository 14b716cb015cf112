package clientmeta

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error codes of RFC 7591 §3.2.2.
const (
	CodeInvalidRedirectURI    = "invalid_redirect_uri"
	CodeInvalidClientMetadata = "invalid_client_metadata"
)

// Error is a refusal of client metadata. Description names the field (and
// the index of a list element) but never echoes the submitted value, so it
// is safe to return to the client and to show on an HTML page.
type Error struct {
	Code        string
	Description string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func invalid(desc string) *Error {
	return &Error{Code: CodeInvalidClientMetadata, Description: desc}
}

// Auth methods (RFC 7591 §2) this server supports.
const (
	AuthNone              = "none"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
)

// Grant and response types this server supports (SPEC AS-4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	ResponseTypeCode       = "code"
)

// Limits on metadata members. Names and URIs end up on the consent page and
// in storage; the bounds keep one registration from costing much of either.
const (
	MaxRedirectURIs = 20
	MaxNameLength   = 200
	MaxScopeLength  = 1000
	MaxContacts     = 10
	MaxContactLen   = 320 // RFC 5321 address length
	MaxSoftwareLen  = 200
	MaxJWKSBytes    = 8192
)

// Metadata is RFC 7591 §2 client metadata, as sent to the registration
// endpoint, published in a client ID metadata document, or built from the
// config file. Unknown members are ignored when decoding (RFC 7591 §2:
// the server ignores metadata it does not understand).
type Metadata struct {
	RedirectURIs            []string        `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string        `json:"grant_types,omitempty"`
	ResponseTypes           []string        `json:"response_types,omitempty"`
	ClientName              string          `json:"client_name,omitempty"`
	ClientURI               string          `json:"client_uri,omitempty"`
	LogoURI                 string          `json:"logo_uri,omitempty"`
	Scope                   string          `json:"scope,omitempty"`
	Contacts                []string        `json:"contacts,omitempty"`
	TOSURI                  string          `json:"tos_uri,omitempty"`
	PolicyURI               string          `json:"policy_uri,omitempty"`
	SoftwareID              string          `json:"software_id,omitempty"`
	SoftwareVersion         string          `json:"software_version,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	// ClientID is the document's own URL in a client ID metadata document;
	// empty in a registration request.
	ClientID string `json:"client_id,omitempty"`
	// ClientSecret must never appear in a client ID metadata document
	// (ValidateCIMD refuses it); a registration response may set it.
	ClientSecret string `json:"client_secret,omitempty"`
}

// Public reports whether the client has no secret (auth method "none").
func (m *Metadata) Public() bool { return m.TokenEndpointAuthMethod == AuthNone }

// Validate applies the RFC 7591 §2 defaults to m and checks it. Defaults:
// token_endpoint_auth_method "client_secret_basic", grant_types
// ["authorization_code"], response_types ["code"]. The auth-method default
// is the RFC's, although MCP clients registering dynamically send "none":
// a client that sends nothing gets a secret rather than being made public
// by omission. The error is an *Error.
func (p Policy) Validate(m *Metadata) error {
	applyDefaults(m)
	// Each check returns a *Error; returning one that is nil as an error
	// would be a non-nil interface, so only a real refusal is returned.
	for _, check := range []func(*Metadata) *Error{checkTypes, p.checkRedirectURIs, checkDisplay, checkKeys} {
		if e := check(m); e != nil {
			return e
		}
	}
	return nil
}

func applyDefaults(m *Metadata) {
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = AuthClientSecretBasic
	}
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{GrantAuthorizationCode}
	}
	if len(m.ResponseTypes) == 0 {
		m.ResponseTypes = []string{ResponseTypeCode}
	}
}

// checkTypes: only the authorization code flow exists here (OAuth 2.1 has
// no implicit grant), so grant_types must include authorization_code and
// may add refresh_token, and response_types is exactly "code" (RFC 7591
// §2.1 requires the two to agree).
func checkTypes(m *Metadata) *Error {
	switch m.TokenEndpointAuthMethod {
	case AuthNone, AuthClientSecretBasic, AuthClientSecretPost:
	default:
		return invalid("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
	}
	for _, g := range m.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken {
			return invalid("grant_types may contain only authorization_code and refresh_token")
		}
	}
	if !slices.Contains(m.GrantTypes, GrantAuthorizationCode) {
		return invalid("grant_types must include authorization_code")
	}
	for _, r := range m.ResponseTypes {
		if r != ResponseTypeCode {
			return invalid("response_types must be [\"code\"]")
		}
	}
	return nil
}

func (p Policy) checkRedirectURIs(m *Metadata) *Error {
	switch {
	case len(m.RedirectURIs) == 0:
		// RFC 7591 §2: required for redirect-based flows, and ours is one.
		return &Error{Code: CodeInvalidRedirectURI, Description: "redirect_uris is required"}
	case len(m.RedirectURIs) > MaxRedirectURIs:
		return &Error{Code: CodeInvalidRedirectURI, Description: fmt.Sprintf("redirect_uris has more than %d entries", MaxRedirectURIs)}
	}
	for i, uri := range m.RedirectURIs {
		if msg := p.redirectProblem(uri, m.Public()); msg != "" {
			return &Error{Code: CodeInvalidRedirectURI, Description: fmt.Sprintf("redirect_uris[%d]: %s", i, msg)}
		}
	}
	return nil
}

// checkDisplay bounds what the consent page shows. Names may not hold
// control or format characters: a right-to-left override or a newline can
// make "Evil" render as someone else's name.
func checkDisplay(m *Metadata) *Error {
	if !displayable(m.ClientName, MaxNameLength) {
		return invalid(fmt.Sprintf("client_name must be at most %d bytes of printable text", MaxNameLength))
	}
	for _, f := range []struct{ name, value string }{
		{"client_uri", m.ClientURI}, {"logo_uri", m.LogoURI}, {"tos_uri", m.TOSURI},
		{"policy_uri", m.PolicyURI}, {"jwks_uri", m.JWKSURI},
	} {
		if f.value != "" && !isHTTPSURL(f.value) {
			return invalid(fmt.Sprintf("%s must be an https URL of at most %d bytes", f.name, MaxURILength))
		}
	}
	if len(m.Scope) > MaxScopeLength || !scopeSyntax(m.Scope) {
		return invalid(fmt.Sprintf("scope must be space-separated scope tokens (RFC 6749 §3.3), at most %d bytes", MaxScopeLength))
	}
	if len(m.Contacts) > MaxContacts || slices.ContainsFunc(m.Contacts, func(c string) bool { return !displayable(c, MaxContactLen) }) {
		return invalid(fmt.Sprintf("contacts must be at most %d printable strings", MaxContacts))
	}
	if !displayable(m.SoftwareID, MaxSoftwareLen) || !displayable(m.SoftwareVersion, MaxSoftwareLen) {
		return invalid("software_id and software_version must be printable text")
	}
	return nil
}

// checkKeys: RFC 7591 §2 forbids sending both jwks and jwks_uri, and jwks
// must be a JWK Set: it is stored and echoed back, so it may not carry
// arbitrary (deeply nested) JSON.
func checkKeys(m *Metadata) *Error {
	if len(m.JWKS) > MaxJWKSBytes {
		return invalid("jwks is too large")
	}
	if len(m.JWKS) > 0 && !jwksShape(m.JWKS) {
		return invalid(`jwks must be a JWK Set: {"keys": [key objects of string members]}`)
	}
	if len(m.JWKS) > 0 && m.JWKSURI != "" {
		return invalid("jwks and jwks_uri must not both be present")
	}
	return nil
}

func displayable(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.In(r, unicode.Cc, unicode.Cf) || r == utf8.RuneError
	})
}

func isHTTPSURL(s string) bool {
	u, msg := parseURI(s)
	return msg == "" && u.Scheme == "https" && plainAuthority(s, u)
}

// scopeSyntax: scope = scope-token *( SP scope-token ), scope-token =
// 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3). Empty means none.
func scopeSyntax(s string) bool {
	if s == "" {
		return true
	}
	for _, tok := range strings.Split(s, " ") {
		if tok == "" || strings.ContainsFunc(tok, func(r rune) bool {
			return r < 0x21 || r > 0x7e || r == '"' || r == '\\'
		}) {
			return false
		}
	}
	return true
}
