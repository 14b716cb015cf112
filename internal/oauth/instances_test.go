package oauth_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/pgtest"
)

// The authorization server on PostgreSQL, and two instances sharing one
// database (SPEC AS-5a acceptance: a revocation on one instance reaches
// every instance within 5 s).

// TestPostgresFlow runs the whole happy path on PostgreSQL: login, code
// exchange, refresh, introspection and revocation.
func TestPostgresFlow(t *testing.T) {
	dsn := pgtest.DSN(t, "mcpgate_oauth_") // before any gateway, so the schema outlives them
	t.Parallel()
	g := testenv.New(t, testenv.Options{Driver: "postgres", DSN: dsn})
	files := g.Resource(testenv.FilesPath)
	f, first := g.Tokens(g.NewBrowser(), testenv.ConfidentialClient, files, testenv.Alice)
	c := g.RequireValid(t, first.Get("access_token"), files)

	second := g.RefreshFlow(f, first.Get("refresh_token"), nil)
	if second.Status != http.StatusOK || second.Get("refresh_token") == first.Get("refresh_token") {
		t.Fatalf("refresh: %d %s", second.Status, second.Raw)
	}
	if c2 := g.RequireValid(t, second.Get("access_token"), files); c2.SID != c.SID || c2.Subject != "local:alice" {
		t.Errorf("refreshed token: sid %s sub %s; want %s, local:alice", c2.SID, c2.Subject, c.SID)
	}
	requireMembers(t, g.Introspect(second.Get("access_token"), f.Client, f.Secret), map[string]any{"active": true, "sid": c.SID})
	requireRevokeOK(t, g.Revoke(second.Get("refresh_token"), f.Client, f.Secret))
	g.RequireRevoked(t, second.Get("access_token"), files)
	testenv.RequireInactive(t, g.Introspect(second.Get("refresh_token"), f.Client, f.Secret))
}

// TestInstancesShareRevocation starts two gateways on one PostgreSQL
// schema, as two replicas behind one load balancer: they share public_url
// (so both issue and expect the same iss and resource URIs) and the
// sealing keys (so both open the signing keys in the store). Tokens come
// from A; each way of revoking them is done on A, and B, which is told
// nothing, must reject the access token within 5 s by polling the store.
func TestInstancesShareRevocation(t *testing.T) {
	dsn := pgtest.DSN(t, "mcpgate_oauth_")
	t.Parallel()
	a := testenv.New(t, testenv.Options{Driver: "postgres", DSN: dsn})
	b := testenv.New(t, testenv.Options{Driver: "postgres", DSN: dsn, Mutate: func(c *config.Config) {
		c.PublicURL = a.Config.PublicURL
		c.Secrets = a.Config.Secrets
	}})
	files := a.Resource(testenv.FilesPath)
	alice := a.NewBrowser()
	// issue runs a flow on A and checks B accepts the result.
	issue := func(t *testing.T, browser *testenv.Browser, user string) (testenv.Flow, testenv.Reply) {
		f, r := a.Tokens(browser, testenv.ConfidentialClient, files, user)
		b.RequireValid(t, r.Get("access_token"), files)
		requireMembers(t, b.Introspect(r.Get("access_token"), f.Client, f.Secret), map[string]any{"active": true})
		return f, r
	}
	// reaches waits for B to reject accessToken and logs how long it took.
	reaches := func(t *testing.T, f testenv.Flow, accessToken string) {
		took, err := b.WaitRevoked(accessToken, files, revocationBound)
		if err != nil {
			t.Fatalf("instance B after %v: %v", took, err)
		}
		t.Logf("%s: instance B rejected the access token %v after the revocation on A", t.Name(), took)
		testenv.RequireInactive(t, b.Introspect(accessToken, f.Client, f.Secret))
	}

	t.Run("code replay", func(t *testing.T) {
		f, r := issue(t, alice, testenv.Alice)
		testenv.RequireOAuthError(t, a.Exchange(f, nil), http.StatusBadRequest, "invalid_grant")
		reaches(t, f, r.Get("access_token"))
	})
	t.Run("refresh reuse", func(t *testing.T) {
		f, r := issue(t, alice, testenv.Alice)
		rt1 := r.Get("refresh_token")
		r2 := a.RefreshFlow(f, rt1, nil)
		r3 := a.RefreshFlow(f, r2.Get("refresh_token"), nil)
		b.RequireValid(t, r3.Get("access_token"), files)
		// rt1's successor is used, so this is a reuse even inside the
		// grace window: no waiting on the clock.
		testenv.RequireOAuthError(t, a.RefreshFlow(f, rt1, nil), http.StatusBadRequest, "invalid_grant")
		reaches(t, f, r3.Get("access_token"))
	})
	t.Run("RFC 7009 revocation", func(t *testing.T) {
		f, r := issue(t, alice, testenv.Alice)
		requireRevokeOK(t, a.CallForm("/oauth/revoke", url.Values{"token": {r.Get("refresh_token")}}, f.Client, f.Secret))
		reaches(t, f, r.Get("access_token"))
	})
	t.Run("kill switch", func(t *testing.T) {
		f, r := issue(t, a.NewBrowser(), testenv.Bob)
		killSwitch(t, a, nil, "local:bob")
		reaches(t, f, r.Get("access_token"))
	})
}
