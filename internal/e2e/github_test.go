package e2e

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/fakegithub"
)

// TestGitHubLogin runs a whole authorization through the gateway with the
// github provider against the fake GitHub: the browser goes to GitHub and
// back, the token carries the GitHub subject, the team (as a lower-case
// "org/team" group, which policy names) and the verified email,
// a scope restricted to a team is granted to its member, the user's GitHub
// token is stored sealed, and a user outside allowed_orgs gets no code.
func TestGitHubLogin(t *testing.T) {
	gh := fakegithub.New(t)
	octo := fakegithub.User{ID: 4242, Login: "octo", Orgs: []string{"Acme"}, Teams: []string{"acme/admins", "acme/sre"},
		Emails: []fakegithub.Email{{Email: "octo@example.com", Primary: true, Verified: true}}}
	gh.SetUser(octo)
	gh.SetUser(fakegithub.User{ID: 77, Login: "outsider", Orgs: []string{"other"}})
	clk := testenv.NewClock(time.Now())
	g := testenv.New(t, testenv.Options{Now: clk.Now, Mutate: func(c *config.Config) {
		c.IdentityProviders = []config.IdentityProvider{{ID: "gh", Type: "github",
			ClientID: fakegithub.ClientID, ClientSecret: fakegithub.ClientSecret,
			APIURL: gh.APIURL(), WebURL: gh.WebURL(), AllowedOrgs: []string{"acme"}}}
		for i := range c.Scopes {
			if c.Scopes[i].Name == "admin:all" {
				// elsewhere/admins keeps the scope grantable after the
				// user leaves acme: only allowed_orgs can end the grant.
				c.Scopes[i].Groups = []string{"acme/admins", "elsewhere/admins"}
			}
		}
	}})

	login := func(user int64) (testenv.Flow, testenv.Response) {
		gh.LoginAs(user)
		b := g.NewBrowser()
		f := g.NewFlow(testenv.PublicClient, g.Resource(testenv.AdminPath))
		params := g.AuthParams(f.Client, f.Redirect, f.Resource, f.PKCE)
		params.Set("scope", "admin:all offline_access")
		at := b.Authorize(params, "") // stops where the browser leaves the gateway
		if !strings.HasPrefix(at.String(), gh.WebURL()+"/login/oauth/authorize?") {
			t.Fatalf("login went to %s, not to GitHub", at)
		}
		back := b.Get(at.String()).Location()
		if back == nil || !strings.HasPrefix(back.String(), g.URL+"/oauth/callback/gh?") {
			t.Fatalf("GitHub sent the browser to %v", back)
		}
		return f, b.Get(back.String())
	}

	f, resp := login(4242)
	loc := resp.Location()
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("callback answered %d, Location %v:\n%s", resp.StatusCode, loc, resp.Body)
	}
	f.Code = loc.Query().Get("code")
	r := g.Exchange(f, nil)
	if r.Status != http.StatusOK || r.Get("scope") != "admin:all offline_access" || r.Get("refresh_token") == "" {
		t.Fatalf("exchange: %d %s", r.Status, r.Raw)
	}
	claims := g.RequireValid(t, r.Get("access_token"), f.Resource)
	if claims.Subject != "gh:4242" || claims.IDP != "gh" || claims.Email != "octo@example.com" || !claims.EmailVerified ||
		!slices.Contains(claims.Groups, "acme/admins") {
		t.Errorf("claims = %+v", claims)
	}
	stored, err := g.Store().GetUpstreamToken(t.Context(), "gh:4242", "gh")
	if err != nil || len(stored.Sealed) == 0 || bytes.Contains(stored.Sealed, []byte("gho_")) {
		t.Errorf("stored GitHub token: %+v, %v (want it sealed)", stored, err)
	}

	// The re-check on refresh (SPEC AS-6) asks GitHub again: still in
	// acme, the refresh works; once removed from acme, the grant ends.
	clk.Advance(16 * time.Minute)
	r = g.RefreshFlow(f, r.Get("refresh_token"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh while still a member: %d %s", r.Status, r.Raw)
	}
	octo.Orgs, octo.Teams = nil, []string{"elsewhere/admins"}
	gh.SetUser(octo)
	clk.Advance(16 * time.Minute)
	testenv.RequireOAuthError(t, g.RefreshFlow(f, r.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")

	_, resp = login(77)
	if loc := resp.Location(); loc != nil && loc.Query().Get("code") != "" {
		t.Fatalf("a user outside allowed_orgs got a code: %s", loc)
	}
	if strings.Contains(g.Logs.String(), "gho_") {
		t.Error("a GitHub token reached the logs")
	}
}
