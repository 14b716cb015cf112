package policy

import (
	"path"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"create_*", "create_user", true},
		{"create_*", "create_", true},
		{"create_*", "create", false},
		{"create_*", "xcreate_user", false},
		{"create_*", "Create_user", false},
		{"*", "", true},
		{"*", "anything", true},
		{"*", "file:///etc/passwd", true}, // '*' crosses '/', unlike path.Match
		{"docs/*", "docs/a/b", true},
		{"file:///docs/*", "file:///docs/x.md", true},
		{"file:///docs/*", "file:///etc/x.md", false},
		{"delete_user", "delete_user", true},
		{"delete_user", "delete_users", false},
		{"delete_user", "delete_use", false},
		{"get_?", "get_a", true},
		{"get_?", "get_é", true}, // one rune, not one byte
		{"get_?", "get_ab", false},
		{"get_?", "get_/", true},
		{"[ab]_x", "a_x", true},
		{"[ab]_x", "c_x", false},
		{"[^ab]_x", "c_x", true},
		{"[^ab]_x", "a_x", false},
		{"[a-c]*", "b", true},
		{"[a-c]*", "d", false},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{`a\[b`, "a[b", true},
		{`[\]]`, "]", true},
		{`[\^a]`, "^", true},
		{"a.b", "a.b", true},
		{"a.b", "axb", false}, // '.' is literal, not a regexp wildcard
		{"a+", "aa", false},
		{"(x|y)", "x", false},
		{"$x", "$x", true},
		{"*_admin", "users_admin", true},
		{"*_admin", "users_admin\n", false},
		{"*", "multi\nline", true},
		// An inverted range is valid to path.Match and matches nothing.
		{"[9-0]x", "5x", false},
		{"[9-0a]x", "ax", true},
		{"[^9-0]x", "5x", true},
	}
	for _, c := range cases {
		re, err := compileGlob(c.pattern)
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", c.pattern, err)
		}
		if got := re.MatchString(c.name); got != c.want {
			t.Errorf("glob %q on %q = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

// TestGlobAgreesWithPathMatch: on names without '/', matching is
// path.Match's.
func TestGlobAgreesWithPathMatch(t *testing.T) {
	patterns := []string{"*", "a*", "*b", "a?c", "[a-c]?", "[^x]*", `\*a`, "ab", "a*b*c", "[é]"}
	names := []string{"", "a", "ab", "abc", "acb", "x", "xa", "*a", "é", "aXbYc", "a.b"}
	for _, p := range patterns {
		re, err := compileGlob(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			want, _ := path.Match(p, n)
			if got := re.MatchString(n); got != want {
				t.Errorf("glob %q on %q = %v, path.Match says %v", p, n, got, want)
			}
		}
	}
}

func TestCompileRefusesBadGlob(t *testing.T) {
	for _, bad := range []string{"", "[", "a[", "[]", "[a-]", `\`, "a\\", "[^]", "[z-"} {
		if _, err := Compile(nil, []config.ToolRule{{Match: "ok"}, {Match: bad}}); err == nil {
			t.Errorf("Compile accepted pattern %q", bad)
		}
	}
	r, err := Compile([]string{"mcp"}, []config.ToolRule{{Match: "a_*", Scopes: []string{"s"}, Deny: false}})
	if err != nil || len(r.Rules) != 1 || r.Rules[0].re == nil || r.Scopes[0] != "mcp" {
		t.Fatalf("Compile: %+v, %v", r, err)
	}
}

// TestHandBuiltRoute: a Route built without Compile still matches, and a
// malformed pattern in it fails closed.
func TestHandBuiltRoute(t *testing.T) {
	r := Route{Rules: []Rule{{Match: "x_*", Deny: true}, {Match: "y", Groups: []string{"g"}}}}
	if d := r.Decide(Principal{}, KindTool, "x_1", nil); d.Outcome != OutcomeForbidden || d.Rule != 0 {
		t.Errorf("deny by hand-built rule: %+v", d)
	}
	if d := r.Decide(Principal{Groups: []string{"g"}}, KindTool, "y", nil); !d.Allowed || d.Rule != 1 {
		t.Errorf("hand-built rule: %+v", d)
	}
	bad := Route{Rules: []Rule{{Match: "["}}}
	if d := bad.Decide(Principal{}, KindTool, "anything", nil); d.Outcome != OutcomeForbidden || d.Rule != 0 {
		t.Errorf("malformed hand-built rule: %+v", d)
	}
}
