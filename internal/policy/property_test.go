package policy

import (
	"math/rand/v2"
	"path"
	"slices"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

var (
	propScopes    = []string{"mcp", "read", "write", "admin", "audit"}
	propGroups    = []string{"ops", "dev", "admins"}
	propProviders = []string{"okta", "github", "local"}
	propNames     = []string{"create_a", "create_b", "drop_x", "read_y", "admin", "x", ""}
	propPatterns  = []string{"*", "create_*", "drop_?", "read_*", "admin", "x", "[cd]*", "*_b", "nope"}
)

func pick[T any](r *rand.Rand, from []T) []T {
	var out []T
	for _, v := range from {
		if r.IntN(3) == 0 {
			out = append(out, v)
		}
	}
	return out
}

func randomPrincipal(r *rand.Rand) Principal {
	sub := []string{"okta:1", "github:2", "local:3"}[r.IntN(3)]
	return Principal{
		Subject: sub, Provider: propProviders[r.IntN(3)], Email: []string{"", "a@x.io", "b@x.io"}[r.IntN(3)],
		EmailVerified: r.IntN(2) == 0, Groups: pick(r, propGroups), Scopes: pick(r, propScopes),
	}
}

func randomRules(r *rand.Rand) []config.ToolRule {
	rules := make([]config.ToolRule, r.IntN(5))
	for i := range rules {
		rules[i] = config.ToolRule{Match: propPatterns[r.IntN(len(propPatterns))], Deny: r.IntN(6) == 0}
		if !rules[i].Deny {
			rules[i].Scopes, rules[i].Groups, rules[i].Providers = pick(r, propScopes), pick(r, propGroups), pick(r, propProviders)
			rules[i].Users = pick(r, []string{"okta:1", "github:2", "a@x.io"})
		}
	}
	return rules
}

// TestDecideProperties checks Decide against an independent reading of
// PX-7 on random principals and rules.
func TestDecideProperties(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	for range 20000 {
		rules := randomRules(rnd)
		route, err := Compile(pick(rnd, propScopes[:3]), rules)
		if err != nil {
			t.Fatal(err)
		}
		p := randomPrincipal(rnd)
		name := propNames[rnd.IntN(len(propNames))]
		var h Hierarchy
		if rnd.IntN(2) == 0 {
			h = hier
		}
		d := route.Decide(p, KindTool, name, h)

		want := -1
		for i, rule := range rules {
			if ok, _ := path.Match(rule.Match, name); ok {
				want = i
				break
			}
		}
		if d.Rule != want {
			t.Fatalf("rules %+v name %q: rule %d, want %d", rules, name, d.Rule, want)
		}
		if route.Visible(p, KindTool, name, h) != d.Allowed {
			t.Fatalf("Visible disagrees with %+v", d)
		}
		if d.Allowed != (d.Outcome == OutcomeAllow) {
			t.Fatalf("inconsistent %+v", d)
		}
		identityOK := true
		if want >= 0 {
			rule := rules[want]
			identityOK = !rule.Deny &&
				(len(rule.Providers) == 0 || slices.Contains(rule.Providers, p.Provider)) &&
				(len(rule.Groups) == 0 || slices.ContainsFunc(rule.Groups, func(g string) bool { return slices.Contains(p.Groups, g) })) &&
				(len(rule.Users) == 0 || slices.Contains(rule.Users, p.Subject) || (p.EmailVerified && slices.Contains(rule.Users, p.Email)))
		}
		if (d.Outcome == OutcomeForbidden) != !identityOK {
			t.Fatalf("rules %+v principal %+v name %q: %+v, identity ok %v", rules, p, name, d, identityOK)
		}
		// A step-up with every scope there is cannot lift a forbidden, and
		// one with exactly the missing scopes always lifts insufficient_scope.
		up := p
		switch d.Outcome {
		case OutcomeForbidden:
			up.Scopes = propScopes
			if route.Decide(up, KindTool, name, h).Outcome != OutcomeForbidden {
				t.Fatalf("step-up lifted a forbidden: %+v", d)
			}
		case OutcomeInsufficientScope:
			need := slices.Clone(route.Scopes)
			if want >= 0 {
				need = append(need, rules[want].Scopes...)
			}
			have := p.Scopes
			if h != nil {
				have = h(p.Scopes)
			}
			for _, s := range need {
				if slices.Contains(have, s) == slices.Contains(d.MissingScopes, s) {
					t.Fatalf("need %v have %v: missing %v", need, have, d.MissingScopes)
				}
			}
			for i, s := range d.MissingScopes {
				if slices.Contains(d.MissingScopes[:i], s) {
					t.Fatalf("duplicate missing scope in %+v", d)
				}
			}
			up.Scopes = append(slices.Clone(p.Scopes), d.MissingScopes...)
			if !route.Decide(up, KindTool, name, h).Allowed {
				t.Fatalf("step-up with %v did not allow: %+v", d.MissingScopes, d)
			}
		case OutcomeAllow:
			if len(d.MissingScopes) != 0 {
				t.Fatalf("allowed with missing scopes: %+v", d)
			}
		}
	}
}
