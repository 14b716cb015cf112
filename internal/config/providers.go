package config

import (
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// providerIDRE: the ID prefixes every subject ("<id>:<subject>", SPEC AS-5)
// and appears in policy rules, so it is short and has no ':'.
var providerIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

func (c *Config) checkIdentityProviders(ps *Problems) {
	seen := map[string]int{}
	for i, p := range c.IdentityProviders {
		path := index("identity_providers", i)
		switch j, dup := seen[p.ID]; {
		case p.ID == "":
			ps.add(field(path, "id"), "required")
		case !providerIDRE.MatchString(p.ID):
			ps.add(field(path, "id"), "must be 1 to 32 lower-case letters, digits or '-', starting with a letter or digit")
		case dup:
			ps.add(field(path, "id"), "duplicate of "+index("identity_providers", j))
		default:
			seen[p.ID] = i
		}
		p.check(ps, path)
	}
}

func (p IdentityProvider) check(ps *Problems, path string) {
	switch p.Type {
	case "oidc":
		p.checkOIDC(ps, path)
	case "github":
		p.checkGitHub(ps, path)
	case "local":
		p.checkLocal(ps, path)
	case "":
		ps.add(field(path, "type"), "required (oidc, github or local)")
		return
	default:
		ps.add(field(path, "type"), fmt.Sprintf("unknown type %q (want oidc, github or local)", p.Type))
		return
	}
	p.checkUnused(ps, path)
}

func (p IdentityProvider) checkOIDC(ps *Problems, path string) {
	if p.Issuer == "" {
		ps.add(field(path, "issuer"), "required for type oidc")
	} else if msg := issuerProblem(p.Issuer); msg != "" {
		ps.add(field(path, "issuer"), msg)
	} else if strings.Contains(p.Issuer, "/.well-known/") {
		// The discovery URL pasted for the issuer: discovery would fetch
		// <it>/.well-known/openid-configuration and never match.
		ps.add(field(path, "issuer"), "must be the issuer itself, not its discovery document URL (drop /.well-known/...)")
	}
	p.checkClient(ps, path)
	// OpenID Connect Core 1.0 §3.1.2.1: without "openid" the provider
	// returns no ID token, and login cannot work.
	if !slices.Contains(p.Scopes, "openid") {
		ps.add(field(path, "scopes"), `must include "openid"`)
	}
	checkScopes(ps, field(path, "scopes"), p.Scopes)
	if p.GroupsClaim == "" {
		ps.add(field(path, "groups_claim"), "required")
	} else if strings.ContainsFunc(p.GroupsClaim, unicode.IsSpace) {
		ps.add(field(path, "groups_claim"), "must be one claim name, without spaces")
	}
	keys := slices.Sorted(maps.Keys(p.AuthParams))
	for _, k := range keys {
		switch {
		case k == "":
			ps.add(field(path, "auth_params"), "a parameter name is empty")
		case slices.Contains(ReservedAuthParams, k):
			// Overriding one would break or weaken the login: state,
			// nonce and the PKCE challenge bind the answer to the
			// browser and the login that asked for it.
			ps.add(field(field(path, "auth_params"), k), "is set by mcpgate itself and cannot be overridden")
		}
	}
}

// ReservedAuthParams are the authorization request parameters mcpgate
// sets itself; auth_params may not name them. resource is among them
// because mcpgate deliberately never sends one upstream (Entra refuses
// it along with OpenID scopes); request and request_uri because a request
// object's parameters supersede the query's (OpenID Connect Core 1.0
// §6.3.3), so one could replace all the others.
var ReservedAuthParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "resource", "request", "request_uri"}

var githubTeamRE = regexp.MustCompile(`^[^/\s]+/[^/\s]+$`)

// gitHubWebURL is web_url's default: GitHub's own for its API, and the
// server's root for a GitHub Enterprise Server API (<root>/api/v3); ""
// when neither applies (the operator must say).
func gitHubWebURL(apiURL string) string {
	switch u := strings.TrimSuffix(apiURL, "/"); {
	case u == DefaultGitHubAPIURL:
		return DefaultGitHubWebURL
	case strings.HasSuffix(u, "/api/v3"):
		return strings.TrimSuffix(u, "/api/v3")
	}
	return ""
}

func (p IdentityProvider) checkGitHub(ps *Problems, path string) {
	p.checkClient(ps, path)
	checkScopes(ps, field(path, "scopes"), p.Scopes)
	if p.APIURL == "" {
		ps.add(field(path, "api_url"), "required")
	} else if msg := urlProblem(p.APIURL, true); msg != "" {
		ps.add(field(path, "api_url"), msg)
	}
	if p.WebURL == "" && urlProblem(p.APIURL, true) == "" {
		ps.add(field(path, "web_url"), `required when api_url is neither the default nor a GitHub Enterprise Server URL ending in "/api/v3"`)
	} else if msg := issuerProblem(p.WebURL); p.WebURL != "" && msg != "" {
		ps.add(field(path, "web_url"), msg)
	}
	for i, o := range p.AllowedOrgs {
		if o == "" || strings.ContainsAny(o, "/ \t") {
			ps.add(index(field(path, "allowed_orgs"), i), fmt.Sprintf("%q is not an organisation login", o))
		}
	}
	for i, t := range p.AllowedTeams {
		if !githubTeamRE.MatchString(t) {
			ps.add(index(field(path, "allowed_teams"), i), fmt.Sprintf("%q is not of the form org/team", t))
		}
	}
}

func (p IdentityProvider) checkClient(ps *Problems, path string) {
	if p.ClientID == "" {
		ps.add(field(path, "client_id"), "required for type "+p.Type)
	}
	if p.ClientSecret == "" && p.ClientSecretFile == "" {
		ps.add(field(path, "client_secret"), "required for type "+p.Type+" (or client_secret_file)")
	}
}

func (p IdentityProvider) checkLocal(ps *Problems, path string) {
	if len(p.Users) == 0 {
		ps.add(field(path, "users"), "required for type local")
	}
	seen := map[string]int{}
	for i, u := range p.Users {
		upath := index(field(path, "users"), i)
		switch j, dup := seen[u.Username]; {
		case u.Username == "":
			ps.add(field(upath, "username"), "required")
		case dup:
			ps.add(field(upath, "username"), "duplicate of "+index(field(path, "users"), j))
		default:
			seen[u.Username] = i
		}
		u.check(ps, upath)
	}
}

func (u LocalUser) check(ps *Problems, path string) {
	if msg := passwordHashProblem(u.PasswordHash); msg != "" {
		ps.add(field(path, "password_hash"), msg)
	}
	if u.Email != "" && !validEmail(u.Email) {
		ps.add(field(path, "email"), fmt.Sprintf("%q is not an email address", u.Email))
	}
}

// validEmail accepts a bare address (no display name or angle brackets).
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// providerFields lists the keys each provider type uses.
var providerFields = map[string][]string{
	"oidc":   {"issuer", "client_id", "client_secret", "client_secret_file", "scopes", "groups_claim", "auth_params"},
	"github": {"client_id", "client_secret", "client_secret_file", "scopes", "allowed_orgs", "allowed_teams", "api_url", "web_url"},
	"local":  {"users"},
}

// checkUnused refuses keys the provider's type ignores. A restriction
// written under the wrong type (allowed_orgs on an oidc provider) would
// otherwise be silently dropped and admit everyone.
func (p IdentityProvider) checkUnused(ps *Problems, path string) {
	for _, f := range []struct {
		key string
		set bool
	}{
		{"issuer", p.Issuer != ""},
		{"client_id", p.ClientID != ""},
		{"client_secret", p.ClientSecret != ""},
		{"client_secret_file", p.ClientSecretFile != ""},
		{"scopes", len(p.Scopes) > 0},
		{"groups_claim", p.GroupsClaim != ""},
		{"auth_params", len(p.AuthParams) > 0},
		{"allowed_orgs", len(p.AllowedOrgs) > 0},
		{"allowed_teams", len(p.AllowedTeams) > 0},
		{"api_url", p.APIURL != ""},
		{"web_url", p.WebURL != ""},
		{"users", len(p.Users) > 0},
	} {
		if f.set && !slices.Contains(providerFields[p.Type], f.key) {
			ps.add(field(path, f.key), "not used by type "+p.Type)
		}
	}
}
