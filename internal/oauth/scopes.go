package oauth

import (
	"slices"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/scope"
)

// OfflineAccess asks for a refresh token. It is advertised in AS metadata
// only (MCP 2026-07-28), never in protected-resource metadata.
const OfflineAccess = "offline_access"

// Principal is who a grant is for, as scope restrictions see them.
type Principal struct {
	Subject  string // "<provider>:<subject>"
	Provider string
	Groups   []string
}

// scopeCatalogue is the configured scope catalogue (SPEC AS-9): what each
// scope implies (hierarchy) and who may receive it.
type scopeCatalogue struct {
	order  []string
	scopes map[string]config.Scope
}

func newScopeCatalogue(list []config.Scope) *scopeCatalogue {
	c := &scopeCatalogue{scopes: make(map[string]config.Scope, len(list))}
	for _, s := range list {
		c.order = append(c.order, s.Name)
		c.scopes[s.Name] = s
	}
	return c
}

// Names lists every scope, in configuration order (scopes_supported).
func (c *scopeCatalogue) Names() []string { return slices.Clone(c.order) }

func (c *scopeCatalogue) Known(name string) bool { _, ok := c.scopes[name]; return ok }

// Description is shown on the consent page.
func (c *scopeCatalogue) Description(name string) string {
	if d := c.scopes[name].Description; d != "" {
		return d
	}
	return name
}

// Expand returns scopes plus every scope they imply, transitively, in a
// stable order. A broader scope implies narrower ones everywhere: a grant
// of mcp:write satisfies a request for mcp:read (SPEC AS-9).
func (c *scopeCatalogue) Expand(scopes []string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(string)
	walk = func(s string) {
		if seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
		for _, n := range c.scopes[s].Implies {
			walk(n)
		}
	}
	for _, s := range scopes {
		walk(s)
	}
	return out
}

// Covers reports whether a grant of granted includes every scope in
// requested, honouring the hierarchy.
func (c *scopeCatalogue) Covers(granted, requested []string) bool {
	have := c.Expand(granted)
	for _, s := range requested {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}

// allowed reports whether p may receive scope s: the scope's own
// restrictions and those of every scope it implies, since holding s means
// holding them (a user kept from "admin:read" must not get it through
// "admin:write").
func (c *scopeCatalogue) allowed(s string, p Principal) bool {
	for _, name := range c.Expand([]string{s}) {
		if !restrictionsAllow(c.scopes[name], p) {
			return false
		}
	}
	return true
}

func restrictionsAllow(s config.Scope, p Principal) bool {
	if len(s.Users) > 0 && !slices.Contains(s.Users, p.Subject) {
		return false
	}
	if len(s.Providers) > 0 && !slices.Contains(s.Providers, p.Provider) {
		return false
	}
	if len(s.Groups) > 0 && !slices.ContainsFunc(s.Groups, func(g string) bool { return slices.Contains(p.Groups, g) }) {
		return false
	}
	return true
}

// Grantable returns the requested scopes p is allowed, in request order.
// Granting a subset is fine (RFC 6749 §3.3); the token response names what
// was granted. This runs after login, with the user known, so clicking
// "approve" can never hand a restricted scope to someone outside it.
func (c *scopeCatalogue) Grantable(requested []string, p Principal) []string {
	var out []string
	for _, s := range requested {
		if c.allowed(s, p) {
			out = append(out, s)
		}
	}
	return out
}

// parseScope splits a scope parameter (RFC 6749 §3.3) on single spaces,
// dropping duplicates; false when a token holds a character outside the
// scope-token set (a tab or Unicode space is no separator: see package
// scope). Callers answer invalid_scope.
func parseScope(raw string) ([]string, bool) {
	s, err := scope.Parse(raw)
	return s, err == nil
}

// ExpandScopes returns scopes plus every scope they imply in the
// configured catalogue (SPEC AS-9). The proxy expands a token's scopes
// once per verified token with it, so policy sees the same hierarchy as
// consent did.
func (p *Provider) ExpandScopes(scopes []string) []string { return p.scopes.Expand(scopes) }
