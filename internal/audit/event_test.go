package audit

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCatalogueComplete parses the package source so that a constant added
// without being listed in the catalogue fails here, not in production.
func TestCatalogueComplete(t *testing.T) {
	declared := eventTypeConsts(t)
	if len(declared) < 21 {
		t.Fatalf("found %d EventType constants, want at least 21", len(declared))
	}
	types := Types()
	for name, value := range declared {
		if !slices.Contains(types, EventType(value)) {
			t.Errorf("constant %s (%q) is missing from Types()", name, value)
		}
	}
	if len(types) != len(declared) {
		t.Errorf("Types() has %d entries, source declares %d constants", len(types), len(declared))
	}
	seen := map[EventType]bool{}
	for _, typ := range types {
		if seen[typ] {
			t.Errorf("duplicate type %q", typ)
		}
		seen[typ] = true
		if !typ.Valid() {
			t.Errorf("%q is listed but not Valid", typ)
		}
	}
}

// eventTypeConsts returns name -> value of every `X EventType = "..."`.
func eventTypeConsts(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || !isIdent(vs.Type, "EventType") {
				return true
			}
			for i, id := range vs.Names {
				out[id.Name] = strings.Trim(vs.Values[i].(*ast.BasicLit).Value, `"`)
			}
			return true
		})
	}
	return out
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func TestSpecNames(t *testing.T) {
	// The wire names are SPEC AU-1's; spot-check the spelling of a few.
	for typ, want := range map[EventType]string{
		RefreshTokenReuseDetected: "refresh_token_reuse_detected",
		OAuthFlowStarted:          "oauth_flow_started",
		ServerStopped:             "server_stopped",
	} {
		if string(typ) != want {
			t.Errorf("got %q, want %q", typ, want)
		}
	}
}

func TestTypesIsACopy(t *testing.T) {
	Types()[0] = "tampered"
	if Types()[0] == "tampered" {
		t.Fatal("Types() exposes the catalogue")
	}
}

func TestValid(t *testing.T) {
	for _, typ := range []EventType{"", "bogus", "Token_Issued", "token_issued "} {
		if typ.Valid() {
			t.Errorf("%q should not be valid", typ)
		}
	}
}

func TestRisk(t *testing.T) {
	for _, tc := range []struct{ in, clamped int }{
		{-5, 0}, {0, 0}, {55, 55}, {100, 100}, {101, 100}, {1 << 40, 100}, {-1 << 40, 0},
	} {
		if got := ClampRisk(tc.in); got != tc.clamped {
			t.Errorf("ClampRisk(%d) = %d, want %d", tc.in, got, tc.clamped)
		}
		e := Event{Type: LoginFailed, Risk: tc.in}
		err := e.Validate()
		if inRange := tc.in == tc.clamped; inRange != (err == nil) {
			t.Errorf("Validate(risk %d) = %v", tc.in, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidRisk) {
			t.Errorf("Validate(risk %d) = %v, want ErrInvalidRisk", tc.in, err)
		}
		p, err := e.Prepare(fixedTime)
		if err != nil || p.Risk != tc.clamped {
			t.Errorf("Prepare(risk %d) = %d, %v; want %d", tc.in, p.Risk, err, tc.clamped)
		}
	}
}
