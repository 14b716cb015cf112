package login

import (
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

func TestBuildLocal(t *testing.T) {
	p := localProvider(config.LocalUser{Username: "alice", PasswordHash: fastArgon2(t, "pw")})
	p.ID = "staff"
	cs, err := Build([]config.IdentityProvider{p})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := cs["staff"]
	if !ok || len(cs) != 1 || c.ID() != "staff" || c.Type() != "local" || c.DisplayName() == "" {
		t.Fatalf("connectors = %v", cs)
	}
	if _, ok := c.(PasswordConnector); !ok {
		t.Error("local is not a PasswordConnector")
	}
	if _, ok := c.(RefreshConnector); !ok {
		t.Error("local is not a RefreshConnector")
	}
	if _, ok := c.(RedirectConnector); ok {
		t.Error("local claims to be a RedirectConnector")
	}
}

// Every broken provider is reported at once, and nothing half-built is
// returned.
func TestBuildReportsEveryProblem(t *testing.T) {
	good := localProvider(config.LocalUser{Username: "alice", PasswordHash: fastArgon2(t, "pw")})
	bad := localProvider(config.LocalUser{Username: "bob", PasswordHash: "plaintext"})
	bad.ID = "other"
	cs, err := Build([]config.IdentityProvider{good, bad, good, {ID: "x", Type: "ldap"}})
	if cs != nil || err == nil {
		t.Fatalf("Build = %v, %v; want nil and an error", cs, err)
	}
	for _, want := range []string{`provider "other": user "bob": password_hash`, `provider "local": duplicate id`, `provider "x": unknown type "ldap"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
