package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// exampleEnv is every environment variable the examples/*.yaml files
// reference, with a value that passes validation. An example referencing
// a variable not listed here fails TestExamplesConfigCheck by name.
var exampleEnv = map[string]string{
	"MCPGATE_SEAL_KEY":       sealKey,
	"SEAL_K1":                sealKey,
	"GITHUB_CLIENT_ID":       "Iv1.0123456789abcdef",
	"OKTA_CLIENT_SECRET":     "okta-secret",
	"ENTRA_CLIENT_SECRET":    "entra-secret",
	"GOOGLE_CLIENT_SECRET":   "google-secret",
	"KEYCLOAK_CLIENT_SECRET": "keycloak-secret",
	"GITHUB_CLIENT_SECRET":   "github-secret",
}

var envRefRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// TestExamplesConfigCheck runs `mcpgate config check` over every
// examples/*.yaml, so the documented configurations cannot drift from
// what the gateway accepts; and shows the check is real: each example
// with one of its secrets unset is refused, naming the variable.
func TestExamplesConfigCheck(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, want := range []string{"okta-org.yaml", "okta-custom.yaml", "entra.yaml", "google.yaml", "keycloak.yaml", "github.yaml"} {
		if !slices.Contains(names, want) {
			t.Errorf("examples/%s is missing (have %v)", want, names)
		}
	}
	for k, v := range exampleEnv {
		t.Setenv(k, v)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var refs []string
			for _, m := range envRefRE.FindAllStringSubmatch(string(body), -1) {
				if _, ok := exampleEnv[m[1]]; !ok {
					t.Fatalf("%s references ${%s}; add it to exampleEnv", f, m[1])
				}
				refs = append(refs, m[1])
			}
			env, out, errOut := testEnv(nil)
			env.lookupEnv = os.LookupEnv
			if code := run(context.Background(), env, []string{"config", "check", "--config", f}); code != 0 {
				t.Fatalf("config check exit %d:\n%s", code, errOut)
			}
			if !strings.Contains(out.String(), "configuration is valid") {
				t.Fatalf("stdout = %q", out)
			}
			for _, ref := range refs {
				env, _, errOut := testEnv(nil)
				env.lookupEnv = func(k string) (string, bool) {
					if k == ref {
						return "", false
					}
					return os.LookupEnv(k)
				}
				if code := run(context.Background(), env, []string{"config", "check", "--config", f}); code != 1 ||
					!strings.Contains(errOut.String(), ref) {
					t.Fatalf("with %s unset: exit %d, stderr:\n%s", ref, code, errOut)
				}
			}
		})
	}
}
