package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// gatewayConfigFile writes a YAML configuration that reaches g's store
// with g's sealing key, as an operator's file for the same deployment.
func gatewayConfigFile(t *testing.T, g *testenv.Gateway) string {
	t.Helper()
	c := g.Config
	body := fmt.Sprintf("public_url: %s\nlisten: 127.0.0.1:0\nstorage:\n  driver: %s\n  dsn: %s\n"+
		"secrets:\n  keys:\n    - id: %s\n      value: %s\n",
		c.PublicURL, c.Storage.Driver, c.Storage.DSN, c.Secrets.Keys[0].ID, c.Secrets.Keys[0].Value)
	path := filepath.Join(t.TempDir(), "mcpgate.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// keysCLI runs `mcpgate keys <args>` in-process and requires exit 0.
func keysCLI(t *testing.T, args ...string) string {
	t.Helper()
	env, out, errOut := testEnv(nil)
	if code := run(context.Background(), env, append([]string{"keys"}, args...)); code != 0 {
		t.Fatalf("mcpgate keys %v: exit %d\n%s", args, code, errOut)
	}
	return out.String()
}

// listedStates parses `keys list` into kid -> state.
func listedStates(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "KID") {
		t.Fatalf("keys list output has no table:\n%s", out)
	}
	states := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 3 {
			t.Fatalf("keys list row %q has no state", l)
		}
		states[f[0]] = f[2]
	}
	return states
}

func storedKey(t *testing.T, g *testenv.Gateway, kid string) storage.SigningKey {
	t.Helper()
	all, err := g.Store().ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range all {
		if k.ID == kid {
			return k
		}
	}
	t.Fatalf("key %s is not in the store", kid)
	return storage.SigningKey{}
}

// TestKeysRotateAndListCLI: `mcpgate keys rotate` on a running deployment
// publishes a key that signs only after the publish-ahead delay, `keys
// list` shows both with their states, and the running gateway publishes
// the new key before it signs with it (SPEC OP-4).
func TestKeysRotateAndListCLI(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	opts := testenv.Options{Now: clock.Now}
	g := testenv.New(t, opts)
	cfg := gatewayConfigFile(t, g)
	res := g.Resource(testenv.FilesPath)
	f, r := g.Tokens(g.NewBrowser(), testenv.ConfidentialClient, res, testenv.Alice)
	t1 := r.Get("access_token")
	k1, _ := testenv.JWTHeader(t, t1)["kid"].(string)
	if st := listedStates(t, keysCLI(t, "list", "--config", cfg)); len(st) != 1 || st[k1] != "active" {
		t.Fatalf("keys list before rotation = %v, want %s active", st, k1)
	}

	out := keysCLI(t, "rotate", "--config", cfg)
	m := regexp.MustCompile(`^published key (\S+) \(ES256\); it signs from \S+\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("keys rotate printed %q", out)
	}
	k2 := storedKey(t, g, m[1])
	st := listedStates(t, keysCLI(t, "list", "--config", cfg))
	if len(st) != 2 || st[k1] != "active" || st[k2.ID] != "next" {
		t.Fatalf("keys list after rotation = %v, want %s active and %s next", st, k1, k2.ID)
	}

	// The gateway picks the new key up from the store (here on restart):
	// published from its creation, not signing until its ActiveAt.
	g.Close()
	g = g.Restart(t, opts)
	clock.Advance(k2.CreatedAt.Sub(clock.Now()))
	r = g.RefreshFlow(f, r.Get("refresh_token"), nil)
	if kid := testenv.JWTHeader(t, r.Get("access_token"))["kid"]; r.Status != 200 || kid != k1 {
		t.Fatalf("token issued while the new key is only published: %d kid %v, want %s", r.Status, kid, k1)
	}
	if jwks := jwksKids(t, g); !strings.Contains(jwks, k1) || !strings.Contains(jwks, k2.ID) {
		t.Fatalf("JWKS %s lacks %s or %s", jwks, k1, k2.ID)
	}
	clock.Advance(k2.ActiveAt.Sub(clock.Now()))
	r = g.RefreshFlow(f, r.Get("refresh_token"), nil)
	if kid := testenv.JWTHeader(t, r.Get("access_token"))["kid"]; kid != k2.ID {
		t.Fatalf("token after the publish-ahead delay has kid %v, want %s", kid, k2.ID)
	}
	g.RequireValid(t, t1, res)
}

func jwksKids(t *testing.T, g *testenv.Gateway) string {
	t.Helper()
	b := g.NewBrowser()
	resp := b.Get("/oauth/jwks")
	if resp.StatusCode != 200 {
		t.Fatalf("JWKS: %d", resp.StatusCode)
	}
	return resp.Body
}

// TestKeysCLIUsage: a subcommand and --config are required (exit 2); a
// configuration that does not load is exit 1, naming the file.
func TestKeysCLIUsage(t *testing.T) {
	for _, args := range [][]string{{"keys"}, {"keys", "burn"}, {"keys", "list"}, {"keys", "rotate"}} {
		env, _, _ := testEnv(nil)
		if code := run(context.Background(), env, args); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	env, _, errOut := testEnv(nil)
	if code := run(context.Background(), env, []string{"keys", "rotate", "--config", "testdata/bad.yaml"}); code != 1 {
		t.Errorf("keys rotate with a bad config: exit %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), "testdata/bad.yaml") {
		t.Errorf("error does not name the file:\n%s", errOut)
	}
}
