package config

import (
	"fmt"
	"path"
)

// checkTools validates per-tool rules (SPEC PX-7). providers maps
// identity provider IDs to their types.
func checkTools(ps *Problems, at string, rules []ToolRule, providers map[string]string) {
	for i, r := range rules {
		rp := index(at, i)
		if r.Match == "" {
			ps.add(field(rp, "match"), "required (a tool name or path.Match pattern)")
		} else if _, err := path.Match(r.Match, ""); err != nil {
			ps.add(field(rp, "match"), fmt.Sprintf("invalid pattern %q (path.Match syntax)", r.Match))
		}
		checkScopes(ps, field(rp, "scopes"), r.Scopes)
		for j, p := range r.Providers {
			if _, ok := providers[p]; !ok {
				ps.add(index(field(rp, "providers"), j), fmt.Sprintf("no identity provider %q", p))
			}
		}
		// A deny rule refuses whoever calls; requirements beside it suggest
		// the operator meant something else.
		if r.Deny && len(r.Scopes)+len(r.Groups)+len(r.Users)+len(r.Providers) > 0 {
			ps.add(field(rp, "deny"), "a deny rule takes no scopes, groups, users or providers")
		}
	}
}

// check validates a resource-server-only route (SPEC section 1, shape 2):
// tokens from this issuer, for this audience, are all the route checks, so
// both must be exact and the issuer reached over https (SPEC HD-3).
func (e *ExternalAuth) check(ps *Problems, at string) {
	if e.Issuer == "" {
		ps.add(field(at, "issuer"), "required")
	} else if msg := issuerProblem(e.Issuer); msg != "" {
		ps.add(field(at, "issuer"), msg)
	}
	if e.Audience == "" {
		ps.add(field(at, "audience"), "required")
	}
	checkScopes(ps, field(at, "scopes"), e.Scopes)
	switch e.ScopeClaim {
	case "scope", "scp":
	default:
		ps.add(field(at, "scope_claim"), fmt.Sprintf("unknown claim %q (want scope or scp)", e.ScopeClaim))
	}
	if e.JWKSURL != "" {
		if msg := urlProblem(e.JWKSURL, true); msg != "" {
			ps.add(field(at, "jwks_url"), msg)
		}
	}
	if in := e.Introspection; in != nil {
		ip := field(at, "introspection")
		if in.URL != "" {
			if msg := urlProblem(in.URL, true); msg != "" {
				ps.add(field(ip, "url"), msg)
			}
		}
		if in.ClientID == "" {
			ps.add(field(ip, "client_id"), "required")
		}
		if in.ClientSecret == "" && in.ClientSecretFile == "" {
			ps.add(field(ip, "client_secret"), "required (or client_secret_file)")
		}
	}
}
