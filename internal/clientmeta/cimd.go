package clientmeta

import (
	"encoding/json"
	"net/url"
	"strings"
)

// CheckClientIDURL reports whether clientID is a client identifier URL
// (draft-ietf-oauth-client-id-metadata-document §3): https, a path other
// than "/", no dot segments, no fragment, no userinfo. The error is an
// *Error with code invalid_client_metadata.
//
// The draft says a query SHOULD NOT be used; this server refuses one. A
// query lets many distinct client_id strings reach one document, which
// defeats the cache and the allow-list's intent, and MCP clients do not
// use one.
func CheckClientIDURL(clientID string) error {
	if msg := clientIDProblem(clientID); msg != "" {
		return invalid("client_id URL " + msg)
	}
	return nil
}

func clientIDProblem(s string) string {
	u, msg := parseURI(s)
	switch {
	case msg != "":
		return msg
	case u.Scheme != "https" || !plainAuthority(s, u):
		return "must be https://host[:port]/path"
	case u.Port() != "" && !validPort(u.Port()):
		return "has an invalid port"
	case strings.Contains(s, "?"):
		return "must not contain a query"
	}
	path := s[len("https://"+u.Host):]
	if path == "" || path == "/" {
		// The draft requires a path; "/" would make the document the
		// site's home page (NOT RECOMMENDED there, refused here).
		return "must have a path other than /"
	}
	for _, seg := range strings.Split(path, "/") {
		// Dot segments, also percent-encoded (%2e), would let the URL the
		// consent page shows differ from the resource the server fetches.
		if dec, err := url.PathUnescape(seg); err != nil || dec == "." || dec == ".." {
			return "must not contain . or .. path segments"
		}
	}
	return ""
}

// ValidateCIMD checks a client ID metadata document fetched from url:
// Validate's rules plus those of draft-ietf-oauth-client-id-metadata-
// document §3-4 and MCP 2025-11-25:
//   - url is a client identifier URL (CheckClientIDURL);
//   - client_id equals url by simple string comparison (RFC 3986 §6.2.1),
//     so a document cannot speak for another client;
//   - no client_secret: there is no way to agree on a shared secret;
//   - token_endpoint_auth_method is "none". The draft also allows
//     private_key_jwt, which this server does not support yet; shared-
//     secret methods are forbidden. When absent it defaults to "none", not
//     to RFC 7591's client_secret_basic, which a document cannot use;
//   - client_name is present (MCP requires it; the consent page shows it);
//   - jwks holds no private key material.
func (p Policy) ValidateCIMD(url string, m *Metadata) error {
	if err := CheckClientIDURL(url); err != nil {
		return err
	}
	if m.ClientID != url {
		return invalid("client_id must equal the URL of the document")
	}
	if m.ClientSecret != "" {
		return invalid("a client ID metadata document must not contain client_secret")
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = AuthNone
	}
	if m.TokenEndpointAuthMethod != AuthNone {
		return invalid("token_endpoint_auth_method must be none for a client ID metadata document")
	}
	if err := p.Validate(m); err != nil {
		return err
	}
	if strings.TrimSpace(m.ClientName) == "" {
		return invalid("client_name is required in a client ID metadata document")
	}
	if hasPrivateKey(m.JWKS) {
		return invalid("jwks must hold public keys only")
	}
	return nil
}

// secretMembers reports whether a raw document names client_secret or
// client_secret_expires_at at all, even as "" or null, which decoding
// into Metadata would hide (draft §4.1: the members MUST NOT be used).
func secretMembers(doc []byte) bool {
	var probe struct {
		Secret  json.RawMessage `json:"client_secret"`
		Expires json.RawMessage `json:"client_secret_expires_at"`
	}
	return json.Unmarshal(doc, &probe) != nil || probe.Secret != nil || probe.Expires != nil
}

// hasPrivateKey reports whether a JWK Set carries private or symmetric key
// members (RFC 7518 §6: "d", "p", "q", "dp", "dq", "qi", "oth"; "k" for
// oct keys), or cannot be read as a JWK Set at all.
func hasPrivateKey(jwks json.RawMessage) bool {
	if len(jwks) == 0 {
		return false
	}
	var set struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(jwks, &set) != nil {
		return true
	}
	for _, k := range set.Keys {
		for _, name := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[name]; ok {
				return true
			}
		}
	}
	return false
}
