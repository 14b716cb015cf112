package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clientIDRE: RFC 3986 §2.3 unreserved characters plus ':', so an ID needs
// no encoding in a URL or a Basic header (RFC 6749 §2.3.1 form-encodes it).
var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9._~:-]{1,128}$`)

// minClientSecret: client secrets are checked with a plain hash and a
// constant-time compare, not a slow password hash (SPEC AS-4), so only a
// high-entropy secret resists offline guessing if the hashes leak. 32
// characters of base64 carry 192 bits.
const minClientSecret = 32

const genSecretHint = "generate one with: head -c 32 /dev/urandom | base64"

var (
	authMethods = []string{"none", "client_secret_basic", "client_secret_post"}
	grantTypes  = []string{"authorization_code", "refresh_token"}
)

func (c *Config) checkClients(ps *Problems) {
	seen := map[string]int{}
	for i, cl := range c.Clients {
		path := index("clients", i)
		switch j, dup := seen[cl.ClientID]; {
		case cl.ClientID == "":
			ps.add(field(path, "client_id"), "required")
		case strings.HasPrefix(cl.ClientID, "https://") || strings.HasPrefix(cl.ClientID, "http://"):
			// A URL client ID names a metadata document (CIMD); a
			// configured client of that name would shadow the document
			// its owner publishes.
			ps.add(field(path, "client_id"), "must not be a URL: URL client IDs are client ID metadata documents")
		case !clientIDRE.MatchString(cl.ClientID):
			ps.add(field(path, "client_id"), "must be 1 to 128 letters, digits or . _ ~ : -")
		case dup:
			ps.add(field(path, "client_id"), "duplicate of "+index("clients", j))
		default:
			seen[cl.ClientID] = i
		}
		cl.checkAuth(ps, path)
		if msg := displayTextProblem(cl.Name); msg != "" {
			ps.add(field(path, "name"), msg)
		}
		c.Registration.checkRedirectURIs(ps, path, cl)
		cl.checkGrantTypes(ps, path)
		checkScopes(ps, field(path, "scopes"), cl.Scopes)
	}
}

// checkAuth: a secret and the auth method must agree (RFC 7591 §2). A
// client with a secret that authenticates with none would be accepted
// without it; a secret method without a secret could never authenticate.
func (cl Client) checkAuth(ps *Problems, path string) {
	if cl.ClientSecret != "" && utf8.RuneCountInString(cl.ClientSecret) < minClientSecret {
		ps.add(field(path, "client_secret"), fmt.Sprintf("must be at least %d characters: it is checked without a slow hash, "+
			"so it must be high entropy; %s", minClientSecret, genSecretHint))
	}
	at := field(path, "token_endpoint_auth_method")
	switch m := cl.TokenEndpointAuthMethod; {
	case m == "":
		ps.add(at, "required (none, client_secret_basic or client_secret_post)")
	case !slices.Contains(authMethods, m):
		ps.add(at, fmt.Sprintf("unknown method %q (want none, client_secret_basic or client_secret_post)", m))
	case m == "none" && !cl.Public():
		ps.add(at, "none means a public client, but client_secret is set; "+
			"use client_secret_basic or client_secret_post, or remove the secret")
	case m != "none" && cl.Public():
		ps.add(field(path, "client_secret"), fmt.Sprintf("required for token_endpoint_auth_method %s (or client_secret_file); %s",
			m, genSecretHint))
	}
}

func (cl Client) checkGrantTypes(ps *Problems, path string) {
	at := field(path, "grant_types")
	seen := map[string]int{}
	for i, g := range cl.GrantTypes {
		j, dup := seen[g]
		switch {
		case !slices.Contains(grantTypes, g):
			ps.add(index(at, i), fmt.Sprintf("unknown grant type %q (want authorization_code or refresh_token)", g))
		case dup:
			ps.add(index(at, i), "duplicate of "+index(at, j))
		}
		seen[g] = i
	}
	if !slices.Contains(cl.GrantTypes, "authorization_code") {
		ps.add(at, "must include authorization_code (the only grant that obtains a first token)")
	}
}

// checkRedirectURIs: redirect URIs are where codes are delivered, so
// each must be one only the client can receive at (SPEC AS-2).
func (r Registration) checkRedirectURIs(ps *Problems, path string, cl Client) {
	at := field(path, "redirect_uris")
	if len(cl.RedirectURIs) == 0 {
		ps.add(at, "required (at least one)")
	}
	seen := map[string]int{}
	for i, u := range cl.RedirectURIs {
		if j, dup := seen[u]; dup {
			ps.add(index(at, i), "duplicate of "+index(at, j))
			continue
		}
		seen[u] = i
		if msg := r.redirectURIProblem(u, cl.Public()); msg != "" {
			ps.add(index(at, i), msg)
		}
	}
}

// displayTextProblem checks text shown to users (consent page) and written
// to logs: a control character could forge log lines or hide text.
func displayTextProblem(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "must not contain control characters"
	}
	return ""
}
