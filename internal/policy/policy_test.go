package policy

import (
	"slices"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

// hier is a small catalogue: write implies read, admin implies write.
func hier(scopes []string) []string {
	implies := map[string][]string{"admin": {"write"}, "write": {"read"}}
	var out []string
	var walk func(string)
	walk = func(s string) {
		if slices.Contains(out, s) {
			return
		}
		out = append(out, s)
		for _, n := range implies[s] {
			walk(n)
		}
	}
	for _, s := range scopes {
		walk(s)
	}
	return out
}

func testRoute(t *testing.T) Route {
	t.Helper()
	r, err := Compile([]string{"mcp"}, []config.ToolRule{
		{Match: "drop_*", Deny: true},                                               // 0
		{Match: "create_*", Scopes: []string{"write", "mcp"}},                       // 1
		{Match: "admin_*", Groups: []string{"admins", "ops"}},                       // 2
		{Match: "payroll", Users: []string{"okta:00u1", "boss@example.com"}},        // 3
		{Match: "gh_*", Providers: []string{"github"}},                              // 4
		{Match: "audit_*", Groups: []string{"auditors"}, Scopes: []string{"audit"}}, // 5
		{Match: "read_*", Scopes: []string{"read"}},                                 // 6
		{Match: "create_user", Deny: true},                                          // 7: shadowed by 1
		{Match: "file:///private/*", Deny: true},                                    // 8
		{Match: "*", Scopes: []string{"misc"}},                                      // 9
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDecide(t *testing.T) {
	alice := Principal{Subject: "okta:00u1", Provider: "okta", Email: "alice@example.com", EmailVerified: true,
		Groups: []string{"ops"}, Scopes: []string{"mcp", "write", "misc"}}
	with := func(p Principal, f func(*Principal)) Principal { p.Groups = slices.Clone(p.Groups); f(&p); return p }
	cases := []struct {
		name     string
		p        Principal
		kind     string
		tool     string
		outcome  string
		rule     int
		missing  []string
		noExpand bool
	}{
		{"deny", alice, KindTool, "drop_table", OutcomeForbidden, 0, nil, false},
		{"deny beats every grant", with(alice, func(p *Principal) { p.Scopes = append(p.Scopes, "admin") }), KindTool, "drop_x", OutcomeForbidden, 0, nil, false},
		{"glob prefix, scope held", alice, KindTool, "create_repo", OutcomeAllow, 1, nil, false},
		{"first match wins over later deny", alice, KindTool, "create_user", OutcomeAllow, 1, nil, false},
		{"hierarchy: admin implies write", with(alice, func(p *Principal) { p.Scopes = []string{"mcp", "admin"} }), KindTool, "create_repo", OutcomeAllow, 1, nil, false},
		{"hierarchy: write implies read", alice, KindTool, "read_file", OutcomeAllow, 6, nil, false},
		{"no hierarchy: write does not give read", alice, KindTool, "read_file", OutcomeInsufficientScope, 6, []string{"read"}, true},
		{"read does not imply write", with(alice, func(p *Principal) { p.Scopes = []string{"mcp", "read"} }), KindTool, "create_x", OutcomeInsufficientScope, 1, []string{"write"}, false},
		{"missing upstream and rule scopes, deduplicated, upstream first", with(alice, func(p *Principal) { p.Scopes = nil }), KindTool, "create_x", OutcomeInsufficientScope, 1, []string{"mcp", "write"}, false},
		{"missing upstream scope only", with(alice, func(p *Principal) { p.Scopes = []string{"write"} }), KindTool, "create_x", OutcomeInsufficientScope, 1, []string{"mcp"}, false},
		{"groups any-of", alice, KindTool, "admin_reset", OutcomeAllow, 2, nil, false},
		{"groups: none held", with(alice, func(p *Principal) { p.Groups = []string{"dev"} }), KindTool, "admin_reset", OutcomeForbidden, 2, nil, false},
		{"groups: case-sensitive", with(alice, func(p *Principal) { p.Groups = []string{"Ops"} }), KindTool, "admin_reset", OutcomeForbidden, 2, nil, false},
		{"users by subject", alice, KindTool, "payroll", OutcomeAllow, 3, nil, false},
		{"users: subject of another provider", with(alice, func(p *Principal) { p.Subject = "github:00u1" }), KindTool, "payroll", OutcomeForbidden, 3, nil, false},
		{"users by verified email", with(alice, func(p *Principal) { p.Subject = "okta:00u9"; p.Email = "Boss@Example.com" }), KindTool, "payroll", OutcomeAllow, 3, nil, false},
		{"users: unverified email", with(alice, func(p *Principal) { p.Subject = "okta:00u9"; p.Email = "boss@example.com"; p.EmailVerified = false }), KindTool, "payroll", OutcomeForbidden, 3, nil, false},
		{"users: another verified email", with(alice, func(p *Principal) { p.Subject = "okta:00u9" }), KindTool, "payroll", OutcomeForbidden, 3, nil, false},
		{"users: empty email never matches", with(alice, func(p *Principal) { p.Subject = "okta:00u9"; p.Email = "" }), KindTool, "payroll", OutcomeForbidden, 3, nil, false},
		{"providers", with(alice, func(p *Principal) { p.Provider = "github" }), KindTool, "gh_issues", OutcomeAllow, 4, nil, false},
		{"providers: other", alice, KindTool, "gh_issues", OutcomeForbidden, 4, nil, false},
		{"forbidden beats insufficient_scope", with(alice, func(p *Principal) { p.Scopes = nil }), KindTool, "audit_log", OutcomeForbidden, 5, nil, false},
		{"group held, scope missing", with(alice, func(p *Principal) { p.Groups = []string{"auditors"} }), KindTool, "audit_log", OutcomeInsufficientScope, 5, []string{"audit"}, false},
		{"catch-all rule", alice, KindTool, "whatever", OutcomeAllow, 9, nil, false},
		{"catch-all rule, scope missing", with(alice, func(p *Principal) { p.Scopes = []string{"mcp"} }), KindTool, "whatever", OutcomeInsufficientScope, 9, []string{"misc"}, false},
		{"resource URI denied", alice, KindResource, "file:///private/keys/id_rsa", OutcomeForbidden, 8, nil, false},
		{"resource URI through catch-all", alice, KindResource, "file:///public/a", OutcomeAllow, 9, nil, false},
		{"prompt by name", alice, KindPrompt, "drop_everything", OutcomeForbidden, 0, nil, false},
		{"other method: rules do not apply", alice, "tools/list", "drop_table", OutcomeAllow, -1, nil, false},
		{"other method: upstream scopes still needed", with(alice, func(p *Principal) { p.Scopes = nil }), "initialize", "", OutcomeInsufficientScope, -1, []string{"mcp"}, false},
	}
	r := testRoute(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h Hierarchy = hier
			if c.noExpand {
				h = nil
			}
			d := r.Decide(c.p, c.kind, c.tool, h)
			if d.Outcome != c.outcome || d.Allowed != (c.outcome == OutcomeAllow) || d.Rule != c.rule ||
				!slices.Equal(d.MissingScopes, c.missing) || d.Reason == "" {
				t.Errorf("Decide = %+v, want outcome %s rule %d missing %v", d, c.outcome, c.rule, c.missing)
			}
			if v := r.Visible(c.p, c.kind, c.tool, h); v != d.Allowed {
				t.Errorf("Visible = %v, Decide.Allowed = %v", v, d.Allowed)
			}
		})
	}
}

func TestNoRuleMatches(t *testing.T) {
	r, err := Compile([]string{"mcp", "base"}, []config.ToolRule{{Match: "create_*", Scopes: []string{"write"}}})
	if err != nil {
		t.Fatal(err)
	}
	p := Principal{Subject: "local:bob", Scopes: []string{"base"}}
	d := r.Decide(p, KindTool, "list_repos", nil)
	if d.Allowed || d.Rule != -1 || !slices.Equal(d.MissingScopes, []string{"mcp"}) {
		t.Errorf("Decide = %+v", d)
	}
	p.Scopes = []string{"base", "mcp"}
	if d := r.Decide(p, KindTool, "list_repos", nil); !d.Allowed || d.Rule != -1 {
		t.Errorf("Decide = %+v", d)
	}
	if d := (Route{}).Decide(Principal{}, KindTool, "x", nil); !d.Allowed || d.Rule != -1 {
		t.Errorf("zero Route: %+v", d)
	}
}

func TestVisibleHidesStepUpItems(t *testing.T) {
	r := testRoute(t)
	p := Principal{Subject: "okta:x", Provider: "okta", Scopes: []string{"mcp", "misc"}}
	for tool, want := range map[string]bool{"create_repo": false, "drop_t": false, "admin_x": false, "other": true} {
		if got := r.Visible(p, KindTool, tool, hier); got != want {
			t.Errorf("Visible(%q) = %v, want %v", tool, got, want)
		}
	}
}

func TestRequestScopes(t *testing.T) {
	r, _ := Compile([]string{"mcp", "offline_access", "read"}, nil)
	if got := r.RequestScopes(); !slices.Equal(got, []string{"mcp", "read"}) {
		t.Errorf("RequestScopes = %v", got)
	}
	if !slices.Equal(r.Scopes, []string{"mcp", "offline_access", "read"}) {
		t.Errorf("RequestScopes changed the route: %v", r.Scopes)
	}
}

// TestDecideDoesNotAlias: neither the principal's scopes nor the route's
// are changed by a decision, whatever the hierarchy does with its argument.
func TestDecideDoesNotAlias(t *testing.T) {
	r, _ := Compile([]string{"mcp"}, []config.ToolRule{{Match: "*", Scopes: []string{"x"}}})
	p := Principal{Scopes: make([]string, 1, 8)}
	p.Scopes[0] = "write"
	greedy := func(s []string) []string { return append(s, "mcp", "x") }
	if d := r.Decide(p, KindTool, "t", greedy); !d.Allowed {
		t.Fatalf("Decide = %+v", d)
	}
	if len(p.Scopes) != 1 || p.Scopes[:2][1] != "" || len(r.Scopes) != 1 {
		t.Errorf("aliasing: principal %v route %v", p.Scopes[:2], r.Scopes)
	}
}

// TestNeededNamesHeldScopesToo: the step-up challenge must name every scope
// the call needs, including the ones the token already holds; a client
// that requests only the missing ones would lose the upstream's base scope
// and fail its next ordinary call.
func TestNeededNamesHeldScopesToo(t *testing.T) {
	r, err := Compile([]string{"mcp", "base"}, []config.ToolRule{{Match: "admin_*", Scopes: []string{"admin", "mcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	p := Principal{Subject: "local:bob", Scopes: []string{"mcp", "base"}}
	d := r.Decide(p, KindTool, "admin_reset", nil)
	if d.Outcome != OutcomeInsufficientScope || !slices.Equal(d.MissingScopes, []string{"admin"}) ||
		!slices.Equal(d.Needed, []string{"mcp", "base", "admin"}) {
		t.Errorf("Decide = %+v, want missing [admin] needed [mcp base admin]", d)
	}
	if d := r.Decide(Principal{Scopes: []string{"mcp", "base", "admin"}}, KindTool, "admin_reset", nil); !d.Allowed || d.Needed != nil {
		t.Errorf("allowed Decide = %+v, want Needed unset", d)
	}
}
