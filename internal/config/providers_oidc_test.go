package config

import (
	"errors"
	"testing"
)

// TestValidateOIDCProvider: every mistake in an oidc provider is reported
// at once, each at its field path; a correct one passes.
func TestValidateOIDCProvider(t *testing.T) {
	good := IdentityProvider{ID: "okta", Type: "oidc", Issuer: "https://acme.okta.com/oauth2/default",
		ClientID: "0oa1", ClientSecret: "s", Scopes: []string{"openid", "email"}, GroupsClaim: "groups"}
	c := goConfig()
	c.IdentityProviders = append(c.IdentityProviders, good)
	if err := c.Validate(); err != nil {
		t.Fatalf("good oidc provider: %v", err)
	}

	bad := IdentityProvider{ID: "entra", Type: "oidc",
		Issuer:      "https://login.example.com/tenant/v2.0/.well-known/openid-configuration",
		Scopes:      []string{"profile"},
		GroupsClaim: "groups roles",
		AllowedOrgs: []string{"acme"},
	}
	c = goConfig()
	c.IdentityProviders = append(c.IdentityProviders, bad, IdentityProvider{ID: "plain", Type: "oidc",
		Issuer: "http://idp.example.com", ClientID: "x", ClientSecret: "s", Scopes: []string{"openid"}, GroupsClaim: "g"})
	var ps Problems
	if err := c.Validate(); !errors.As(err, &ps) {
		t.Fatalf("Validate = %v", err)
	}
	for _, path := range []string{
		"identity_providers[1].issuer", "identity_providers[1].client_id", "identity_providers[1].client_secret",
		"identity_providers[1].scopes", "identity_providers[1].groups_claim", "identity_providers[1].allowed_orgs",
		"identity_providers[2].issuer", // http off loopback
	} {
		if !hasPath(ps, path) {
			t.Errorf("no problem at %s in:\n%v", path, ps)
		}
	}
}

// TestValidateOIDCAuthParams: extra authorization parameters are accepted
// on an oidc provider; every parameter mcpgate sets itself is refused at
// its own field path (overriding state, nonce or the PKCE challenge would
// unbind the provider's answer from the login), and auth_params on
// another type is refused rather than silently ignored.
func TestValidateOIDCAuthParams(t *testing.T) {
	good := IdentityProvider{ID: "google", Type: "oidc", Issuer: "https://accounts.google.com",
		ClientID: "123", ClientSecret: "s", Scopes: []string{"openid", "email"}, GroupsClaim: "groups",
		AuthParams: map[string]string{"access_type": "offline", "prompt": "consent"}}
	c := goConfig()
	c.IdentityProviders = append(c.IdentityProviders, good)
	if err := c.Validate(); err != nil {
		t.Fatalf("auth_params with access_type and prompt: %v", err)
	}

	bad := good
	bad.AuthParams = map[string]string{"access_type": "offline"}
	for _, k := range ReservedAuthParams {
		bad.AuthParams[k] = "x"
	}
	gh := IdentityProvider{ID: "gh", Type: "github", ClientID: "Iv1", ClientSecret: "s",
		APIURL: DefaultGitHubAPIURL, AuthParams: map[string]string{"allow_signup": "false"}}
	c = goConfig()
	c.IdentityProviders = append(c.IdentityProviders, bad, gh)
	var ps Problems
	if err := c.Validate(); !errors.As(err, &ps) {
		t.Fatalf("Validate = %v", err)
	}
	for _, k := range ReservedAuthParams {
		if path := "identity_providers[1].auth_params." + k; !hasPath(ps, path) {
			t.Errorf("no problem at %s in:\n%v", path, ps)
		}
	}
	if hasPath(ps, "identity_providers[1].auth_params.access_type") {
		t.Errorf("access_type refused:\n%v", ps)
	}
	if !hasPath(ps, "identity_providers[2].auth_params") {
		t.Errorf("auth_params on a github provider not refused:\n%v", ps)
	}
}
