package config

import (
	"fmt"
	"slices"
	"strings"
)

// maxScopeName bounds a scope name; a token's scope string carries many.
const maxScopeName = 128

// checkScopeCatalogue validates the declared catalogue (SPEC AS-9) and the
// scopes named elsewhere against it.
func (c *Config) checkScopeCatalogue(ps *Problems) {
	declared := map[string]int{}
	for i, s := range c.Scopes {
		path := index("scopes", i)
		switch j, dup := declared[s.Name]; {
		case s.Name == "":
			ps.add(field(path, "name"), "required")
		case !scopeTokenRE.MatchString(s.Name):
			ps.add(field(path, "name"), fmt.Sprintf("invalid scope %q (RFC 6749 §3.3: no spaces, quotes or backslashes)", s.Name))
		case len(s.Name) > maxScopeName:
			ps.add(field(path, "name"), fmt.Sprintf("must be at most %d characters", maxScopeName))
		case dup:
			ps.add(field(path, "name"), "duplicate of "+index("scopes", j))
		default:
			declared[s.Name] = i
		}
		if msg := displayTextProblem(s.Description); msg != "" {
			ps.add(field(path, "description"), msg)
		}
		c.checkScopeRestrictions(ps, path, s)
	}
	for i, s := range c.Scopes {
		checkImplies(ps, index("scopes", i), s, declared)
	}
	checkImpliesCycles(ps, c.Scopes, declared)
	c.checkScopeReferences(ps, declared)
}

// checkScopeRestrictions: offline_access asks for refresh tokens rather
// than granting access to anything, and is advertised in AS metadata only
// (SPEC AS-9), so it is neither restricted nor part of the hierarchy.
func (c *Config) checkScopeRestrictions(ps *Problems, path string, s Scope) {
	if s.Name == ScopeOfflineAccess && len(s.Groups)+len(s.Users)+len(s.Providers) > 0 {
		ps.add(path, "offline_access takes no groups, users or providers: it only asks for refresh tokens")
	}
	if s.Name == ScopeOfflineAccess && len(s.Implies) > 0 {
		ps.add(field(path, "implies"), "offline_access implies nothing: it only asks for refresh tokens")
	}
	for i, g := range s.Groups {
		if g == "" {
			ps.add(index(field(path, "groups"), i), "must not be empty")
		}
	}
	for i, u := range s.Users {
		provider, subject, ok := strings.Cut(u, ":")
		switch {
		case !ok || provider == "" || subject == "":
			ps.add(index(field(path, "users"), i), fmt.Sprintf("%q is not of the form <provider>:<subject>", u))
		case !c.hasProvider(provider):
			ps.add(index(field(path, "users"), i), fmt.Sprintf("no identity provider %q", provider))
		}
	}
	for i, p := range s.Providers {
		if !c.hasProvider(p) {
			ps.add(index(field(path, "providers"), i), fmt.Sprintf("no identity provider %q", p))
		}
	}
}

func (c *Config) hasProvider(id string) bool {
	return slices.ContainsFunc(c.IdentityProviders, func(p IdentityProvider) bool { return p.ID == id })
}

func checkImplies(ps *Problems, path string, s Scope, declared map[string]int) {
	for j, name := range s.Implies {
		at := index(field(path, "implies"), j)
		_, ok := declared[name]
		switch {
		case name == ScopeOfflineAccess:
			ps.add(at, "offline_access cannot be implied: a client asks for refresh tokens explicitly")
		case !ok:
			ps.add(at, fmt.Sprintf("scope %q is not declared in scopes", name))
		}
	}
}

// checkImpliesCycles reports each cycle in the implies hierarchy once, at
// the entry that closes it, with its path ("a -> b -> a"). A cycle would
// make two scopes one under two names, which is never what was meant.
func checkImpliesCycles(ps *Problems, scopes []Scope, declared map[string]int) {
	const (
		unseen = iota
		onStack
		done
	)
	state := make([]int, len(scopes))
	var stack []string
	var visit func(i int)
	visit = func(i int) {
		state[i] = onStack
		stack = append(stack, scopes[i].Name)
		for j, name := range scopes[i].Implies {
			k, ok := declared[name]
			switch {
			case !ok:
			case state[k] == onStack:
				cycle := append(slices.Clone(stack[slices.Index(stack, name):]), name)
				ps.add(index(field(index("scopes", i), "implies"), j),
					"cycle in implies: "+strings.Join(cycle, " -> "))
			case state[k] == unseen:
				visit(k)
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
	}
	for i, s := range scopes {
		if k, ok := declared[s.Name]; ok && k == i && state[i] == unseen {
			visit(i)
		}
	}
}

// checkScopeReferences: once a catalogue is declared, a scope named
// anywhere else must be in it, so a typo cannot create a scope that no
// consent page describes and no restriction covers. offline_access is
// always in the catalogue, but a resource cannot require it.
func (c *Config) checkScopeReferences(ps *Problems, declared map[string]int) {
	check := func(at string, scopes []string, resource bool) {
		for i, s := range scopes {
			_, ok := declared[s]
			switch {
			case s == ScopeOfflineAccess:
				if resource {
					ps.add(index(at, i), "offline_access only asks for refresh tokens; a resource cannot require it")
				}
			case len(c.Scopes) > 0 && !ok && scopeTokenRE.MatchString(s):
				ps.add(index(at, i), fmt.Sprintf("scope %q is not declared in scopes", s))
			}
		}
	}
	for i, u := range c.Upstreams {
		if u.ExternalAuth != nil {
			continue // scopes of the external AS, not of this catalogue
		}
		path := index("upstreams", i)
		check(field(path, "scopes"), u.Scopes, true)
		for j, r := range u.Tools {
			check(field(index(field(path, "tools"), j), "scopes"), r.Scopes, true)
		}
	}
	for i, cl := range c.Clients {
		check(field(index("clients", i), "scopes"), cl.Scopes, false)
	}
}

// ScopeCatalogue returns every scope the authorization server knows: the
// declared ones in order, then, for each scope an upstream (without
// external_auth), a tool rule or a client names that is not declared, an
// implicit entry with no restrictions, then offline_access unless declared.
// Descriptions default to the name. The result shares no slices with c.
func (c *Config) ScopeCatalogue() []Scope {
	var out []Scope
	seen := map[string]bool{}
	add := func(s Scope) {
		if seen[s.Name] {
			return
		}
		seen[s.Name] = true
		if s.Description == "" {
			s.Description = s.Name
		}
		s.Implies, s.Groups = slices.Clone(s.Implies), slices.Clone(s.Groups)
		s.Users, s.Providers = slices.Clone(s.Users), slices.Clone(s.Providers)
		out = append(out, s)
	}
	for _, s := range c.Scopes {
		add(s)
	}
	for _, name := range c.namedScopes() {
		add(Scope{Name: name})
	}
	add(Scope{Name: ScopeOfflineAccess})
	return out
}

// namedScopes lists, in config order, the scopes upstreams served by this
// AS, their tool rules and the clients name.
func (c *Config) namedScopes() []string {
	var names []string
	for _, u := range c.Upstreams {
		if u.ExternalAuth != nil {
			continue
		}
		names = append(names, u.Scopes...)
		for _, r := range u.Tools {
			names = append(names, r.Scopes...)
		}
	}
	for _, cl := range c.Clients {
		names = append(names, cl.Scopes...)
	}
	return names
}
