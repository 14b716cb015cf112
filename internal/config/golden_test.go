package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// update rewrites the golden files: go test ./internal/config -update
var update = flag.Bool("update", false, "rewrite testdata golden files")

// testEnv is the fixed environment every golden file is loaded with.
var testEnv = map[string]string{
	"SEAL_K1":               "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	"CREDENTIALS_DIRECTORY": "../secrets",
	"OKTA_SECRET":           "okta-client-secret",
	"FILES_API_KEY":         "files-api-key",
	"SEARCH_API_KEY":        "search-api-key",
	"PG_PASSWORD":           "pg-password",
	"PORTAL_SECRET":         "portal-test-secret-0123456789abcdefghij",
	"REDIS_URL":             "redis://:redis-password@redis.internal:6379/2",
	"EMPTY":                 "",
}

func lookupTestEnv(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

// TestGoodConfigs loads each testdata/good file, which must have no
// problems, and compares the resolved Config (defaults applied, secrets
// resolved, paths made absolute) with its golden file. Absolute paths
// depend on the machine, so the golden files write the config file's
// directory as <config dir> and $CREDENTIALS_DIRECTORY as
// <credentials dir>.
func TestGoodConfigs(t *testing.T) {
	creds, env := credentialsDir(t)
	configDir, err := filepath.Abs("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range yamlFiles(t, "testdata/good") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := Load(file, env)
			if err != nil {
				t.Fatalf("unexpected problems:\n%v", err)
			}
			out, err := yaml.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.NewReplacer(creds, "<credentials dir>", configDir, "<config dir>").Replace(string(out))
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", got)
		})
	}
}

// TestBadConfigs loads each testdata/bad file and compares the full
// Problems text with its golden file. $CREDENTIALS_DIRECTORY is set up as
// for TestGoodConfigs, so a bad file can use a valid TLS key pair.
func TestBadConfigs(t *testing.T) {
	creds, env := credentialsDir(t)
	for _, file := range yamlFiles(t, "testdata/bad") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := Load(file, env)
			var ps Problems
			if !errors.As(err, &ps) || cfg != nil {
				t.Fatalf("Load = %v, %v; want nil and Problems", cfg, err)
			}
			got := strings.ReplaceAll(ps.Error()+"\n", creds, "<credentials dir>")
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", got)
		})
	}
}

func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s: %v", dir, err)
	}
	return files
}

func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", golden, got, want)
	}
}
