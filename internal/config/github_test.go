package config

import (
	"errors"
	"os"
	"slices"
	"testing"
)

// TestGitHubWebURL: web_url defaults to GitHub's own site for GitHub's API,
// to the server root for a GitHub Enterprise Server API, and must be given
// otherwise, so the authorize and token endpoints are never guessed.
func TestGitHubWebURL(t *testing.T) {
	for _, tc := range []struct {
		api, web, want, problem string
	}{
		{api: "", want: DefaultGitHubWebURL},
		{api: "https://ghe.example.com/api/v3", want: "https://ghe.example.com"},
		{api: "https://ghe.example.com/api/v3/", want: "https://ghe.example.com"},
		{api: "https://ghe.example.com/api/v3", web: "https://login.ghe.example.com", want: "https://login.ghe.example.com"},
		{api: "http://127.0.0.1:9999/api", problem: "web_url"},
		{api: "https://api.github.com", web: "http://github.example.com", want: "http://github.example.com", problem: "web_url"},
		{api: "https://api.github.com", web: "https://github.com?x=1", want: "https://github.com?x=1", problem: "web_url"},
	} {
		c := goConfig()
		c.IdentityProviders = append(c.IdentityProviders, IdentityProvider{
			ID: "gh", Type: "github", ClientID: "x", ClientSecret: "s", APIURL: tc.api, WebURL: tc.web,
			AllowedOrgs: []string{"acme"},
		})
		c.ApplyDefaults()
		p := c.IdentityProviders[1]
		var ps Problems
		errors.As(c.Validate(), &ps)
		got := hasPath(ps, "identity_providers[1].web_url")
		if p.WebURL != tc.want || got != (tc.problem != "") {
			t.Errorf("api %q web %q: web_url = %q, problem = %v; want %q, %v (%v)", tc.api, tc.web, p.WebURL, got, tc.want, tc.problem != "", ps)
		}
		if !slices.Equal(p.Scopes, []string{"read:user", "user:email", "read:org"}) {
			t.Errorf("default scopes = %v", p.Scopes)
		}
	}
}

func TestGitHubAllowedOrgs(t *testing.T) {
	c := goConfig()
	c.IdentityProviders = append(c.IdentityProviders, IdentityProvider{
		ID: "gh", Type: "github", ClientID: "x", ClientSecret: "s", AllowedOrgs: []string{"acme", "", "acme/platform"},
	})
	c.ApplyDefaults()
	var ps Problems
	errors.As(c.Validate(), &ps)
	if hasPath(ps, "identity_providers[1].allowed_orgs[0]") || !hasPath(ps, "identity_providers[1].allowed_orgs[1]") || !hasPath(ps, "identity_providers[1].allowed_orgs[2]") {
		t.Errorf("problems = %v", ps)
	}
}

// TestWebURLOnlyForGitHub: web_url under another type is refused, not
// silently ignored.
func TestWebURLOnlyForGitHub(t *testing.T) {
	c := goConfig()
	c.IdentityProviders[0].WebURL = "https://github.com"
	var ps Problems
	errors.As(c.Validate(), &ps)
	if !hasPath(ps, "identity_providers[0].web_url") {
		t.Errorf("problems = %v", ps)
	}
}

// TestGitHubExamples loads examples/github.yaml and the YAML blocks of
// docs/github.md, so neither drifts into a config that fails to load.
func TestGitHubExamples(t *testing.T) {
	env := func(name string) (string, bool) {
		v, ok := map[string]string{
			"SEAL_K1":              testEnv["SEAL_K1"],
			"GITHUB_CLIENT_ID":     "Iv1.abcdef",
			"GITHUB_CLIENT_SECRET": "github-client-secret",
		}[name]
		return v, ok
	}
	data, err := os.ReadFile("../../examples/github.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data, "../../examples", env)
	if err != nil {
		t.Fatal(err)
	}
	p := c.IdentityProviders[0]
	if p.Type != "github" || p.ClientSecret != "github-client-secret" || p.WebURL != DefaultGitHubWebURL ||
		!slices.Equal(p.AllowedOrgs, []string{"acme"}) {
		t.Errorf("provider = %+v", p)
	}
	doc, err := os.ReadFile("../../docs/github.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlockRE.FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("no yaml blocks in docs/github.md")
	}
	for i, b := range blocks {
		if _, err := Parse(b[1], "../../examples", env); err != nil {
			t.Errorf("docs/github.md yaml block %d:\n%v", i, err)
		}
	}
}
