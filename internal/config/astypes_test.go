package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// validateProblems runs Validate and returns its Problems (nil when valid).
func validateProblems(t *testing.T, c *Config) Problems {
	t.Helper()
	var ps Problems
	if err := c.Validate(); err != nil && !errors.As(err, &ps) {
		t.Fatalf("Validate = %v; want Problems", err)
	}
	return ps
}

// TestScopeCatalogue: declared scopes first, then the undeclared scopes
// that upstreams served by this AS, their tool rules and clients name, in
// config order, then offline_access; external_auth routes contribute
// nothing.
func TestScopeCatalogue(t *testing.T) {
	c := goConfig()
	c.Scopes = []Scope{{Name: "mcp:write", Implies: []string{"mcp:read"}, Groups: []string{"admins"}}, {Name: "mcp:read"}}
	c.Upstreams = []Upstream{
		{Name: "a", Path: "/a", Scopes: []string{"mcp:read", "up"}, Tools: []ToolRule{{Match: "*", Scopes: []string{"tool", "up"}}}},
		{Name: "ext", Path: "/ext", Scopes: []string{"ext:scope"}, ExternalAuth: &ExternalAuth{}},
	}
	c.Clients = []Client{{ClientID: "x", Scopes: []string{"client", "mcp:write"}}}
	got := c.ScopeCatalogue()
	var names []string
	for _, s := range got {
		names = append(names, s.Name+"="+s.Description)
	}
	want := []string{"mcp:write=mcp:write", "mcp:read=mcp:read", "up=up", "tool=tool", "client=client", "offline_access=offline_access"}
	if !slices.Equal(names, want) {
		t.Fatalf("ScopeCatalogue names = %v, want %v", names, want)
	}
	if !slices.Equal(got[0].Groups, []string{"admins"}) || len(got[2].Groups)+len(got[2].Users)+len(got[2].Providers)+len(got[2].Implies) != 0 {
		t.Errorf("restrictions not carried over exactly: %+v", got)
	}
	got[0].Implies[0] = "changed"
	if c.Scopes[0].Implies[0] != "mcp:read" {
		t.Error("ScopeCatalogue shares slices with the Config")
	}
}

// TestScopeCatalogueDeclaredOfflineAccess: a declared offline_access keeps
// its description and is not listed twice.
func TestScopeCatalogueDeclaredOfflineAccess(t *testing.T) {
	c := goConfig()
	c.Scopes = []Scope{{Name: ScopeOfflineAccess, Description: "Stay signed in"}}
	got := c.ScopeCatalogue()
	if len(got) != 1 || got[0].Description != "Stay signed in" {
		t.Fatalf("ScopeCatalogue = %+v", got)
	}
}

func TestResources(t *testing.T) {
	c := goConfig()
	c.PublicURL = "https://mcp.example.com"
	c.Upstreams = []Upstream{{Path: "/mcp/b"}, {Path: "/mcp/ext", ExternalAuth: &ExternalAuth{}}, {Path: "/mcp/a"}}
	want := []string{"https://mcp.example.com/mcp/b", "https://mcp.example.com/mcp/a"}
	if got := c.Resources(); !slices.Equal(got, want) {
		t.Fatalf("Resources = %v, want %v", got, want)
	}
}

// TestUnsetVersusZero: where zero or false is a real choice, an explicit
// one survives defaults, and an unset one (nil) reads as the default even
// without ApplyDefaults.
func TestUnsetVersusZero(t *testing.T) {
	var unset Config
	if !unset.Registration.DynamicEnabled() || !unset.Registration.CIMDEnabled() || !unset.Registration.ReverseDomainSchemesEnabled() {
		t.Error("unset registration switches must default to on")
	}
	if unset.Signing.RotateInterval() != DefaultRotateEvery || unset.Signing.ReuseGrace() != DefaultRefreshReuseGrace {
		t.Error("unset rotate_every and refresh_reuse_grace must read as their defaults")
	}
	_, env := credentialsDir(t)
	cfg, err := Load("testdata/good/registration_off.yaml", env)
	if err != nil {
		t.Fatal(err)
	}
	r, s := cfg.Registration, cfg.Signing
	if r.DynamicEnabled() || r.CIMDEnabled() || r.ReverseDomainSchemesEnabled() || r.PrivateUseSchemes == nil || len(r.PrivateUseSchemes) != 0 {
		t.Errorf("explicit false and [] lost: %+v", r)
	}
	if s.RotateInterval() != 0 || s.ReuseGrace() != 0 {
		t.Errorf("explicit 0s lost: rotate %v, grace %v", s.RotateInterval(), s.ReuseGrace())
	}
	def := Default()
	if !slices.Equal(def.Registration.PrivateUseSchemes, []string{"cursor"}) || def.Signing.RotateInterval() != 720*time.Hour {
		t.Errorf("defaults not applied: %+v %+v", def.Registration, def.Signing)
	}
}

// TestClientAuthMethodDefault: the default auth method follows the secret,
// given directly or as a file.
func TestClientAuthMethodDefault(t *testing.T) {
	for _, tc := range []struct {
		c    Client
		want string
	}{
		{Client{}, "none"},
		{Client{ClientSecret: strings.Repeat("s", 32)}, "client_secret_basic"},
		{Client{ClientSecretFile: "/run/secrets/c"}, "client_secret_basic"},
		{Client{ClientSecret: strings.Repeat("s", 32), TokenEndpointAuthMethod: "client_secret_post"}, "client_secret_post"},
	} {
		tc.c.applyDefaults()
		if tc.c.TokenEndpointAuthMethod != tc.want {
			t.Errorf("%+v: method %q, want %q", tc.c, tc.c.TokenEndpointAuthMethod, tc.want)
		}
	}
}

// TestClientSecretLength: the secret is compared without a slow hash, so
// anything shorter than 32 characters is refused.
func TestClientSecretLength(t *testing.T) {
	for n, ok := range map[int]bool{31: false, 32: true, 64: true} {
		c := goConfig()
		c.Clients = []Client{{ClientID: "c", ClientSecret: strings.Repeat("é", n), RedirectURIs: []string{"https://a.example/cb"}}}
		c.ApplyDefaults()
		if got := !hasPath(validateProblems(t, c), "clients[0].client_secret"); got != ok {
			t.Errorf("secret of %d characters: accepted = %v, want %v", n, got, ok)
		}
	}
}

func TestRedirectURIs(t *testing.T) {
	def := Default().Registration
	for _, tc := range []struct {
		uri    string
		public bool
		ok     bool
	}{
		{"https://app.example.com/cb?x=1", false, true},
		{"http://127.0.0.1:53124/cb", true, true},
		{"http://[::1]/cb", false, true},
		{"http://localhost/cb", true, true},
		{"http://127.0.0.2/cb", true, false},
		{"http://LOCALHOST/cb", true, false},
		{"http://app.example.com/cb", true, false},
		{"https://app.example.com/cb#", true, false},
		{"https://u@app.example.com/cb", true, false},
		{"cursor://anysphere.cursor-retrieval/oauth/callback", true, true},
		{"cursor://cb", false, false},
		{"com.example.app:/oauth2redirect", true, true},
		{"com.example.app:/oauth2redirect", false, false},
		{"com..app:/cb", true, false},
		{"app.:/cb", true, false},
		{"Com.Example.App:/cb", true, false},
		{"vscode://cb", true, false},
		{"javascript:alert(1)", true, false},
		{"data:text/html,x", true, false},
		{"app", true, false},
	} {
		if got := def.redirectURIProblem(tc.uri, tc.public) == ""; got != tc.ok {
			t.Errorf("redirect %q (public %v): accepted = %v, want %v", tc.uri, tc.public, got, tc.ok)
		}
	}
	off := false
	strict := Registration{PrivateUseSchemes: []string{}, ReverseDomainSchemes: &off}
	for _, uri := range []string{"cursor://cb", "com.example.app:/cb"} {
		if strict.redirectURIProblem(uri, true) == "" {
			t.Errorf("%q accepted with no private-use schemes allowed", uri)
		}
	}
}

func TestTrustHost(t *testing.T) {
	for host, ok := range map[string]bool{
		"127.0.0.1:9443":  true,
		"127.8.9.1:1":     true,
		"[::1]:9443":      true,
		"localhost:9443":  false,
		"10.0.0.1:9443":   false,
		"0.0.0.0:9443":    false,
		"127.0.0.1":       false,
		"127.0.0.1:0":     false,
		"127.0.0.1:65536": false,
		"[::1%lo]:9443":   false,
		"":                false,
	} {
		if got := trustHostProblem(host) == ""; got != ok {
			t.Errorf("cimd_test_trust.host %q: accepted = %v, want %v", host, got, ok)
		}
	}
}

// TestCIMDTestTrustRelativeCA: ca_file is relative to the config file's
// directory, like every other file path, and is stored absolute.
func TestCIMDTestTrustRelativeCA(t *testing.T) {
	dir := t.TempDir()
	writeKeyPair(t, filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key"))
	yaml := "public_url: http://127.0.0.1:8080\nsecrets: {keys: [{id: k1, value: \"${SEAL_K1}\"}]}\n" +
		"registration: {cimd_test_trust: {ca_file: ca.pem, host: \"127.0.0.1:9443\"}}\n"
	cfg, err := Parse([]byte(yaml), dir, lookupTestEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Registration.CIMDTestTrust.CAFile; got != filepath.Join(dir, "ca.pem") {
		t.Errorf("ca_file = %q, want it absolute in %s", got, dir)
	}
	if _, err := cfg.Registration.CIMDTestTrust.CertPool(); err != nil {
		t.Errorf("CertPool = %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "ca.pem")); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse([]byte(yaml), dir, lookupTestEnv); err == nil || !strings.Contains(err.Error(), "cimd_test_trust.ca_file: cannot load") {
		t.Errorf("Parse with the CA file gone = %v", err)
	}
}
