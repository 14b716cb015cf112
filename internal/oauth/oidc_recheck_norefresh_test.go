package oauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/fakeoidc"
)

// TestOIDCRecheckWithoutUpstreamRefreshToken (SPEC AS-6) through the
// token endpoint, with an IdP that issues no refresh token: a due
// re-check asks the userinfo endpoint with the stored access token, and
// the grant is revoked (invalid_grant, audited user_gone) when the IdP
// refuses it (the user was disabled) or once that access token has
// expired, instead of living on unchecked for the family's lifetime.
func TestOIDCRecheckWithoutUpstreamRefreshToken(t *testing.T) {
	for name, end := range map[string]func(*fakeoidc.OP, *testenv.Clock){
		"user disabled": func(op *fakeoidc.OP, clk *testenv.Clock) {
			op.Set(func(op *fakeoidc.OP) { op.UserinfoStatus = http.StatusUnauthorized })
			clk.Advance(20 * time.Minute)
		},
		"access token expired": func(op *fakeoidc.OP, clk *testenv.Clock) {
			clk.Advance(time.Hour) // the IdP's access token lived an hour
		},
	} {
		t.Run(name, func(t *testing.T) {
			op := fakeoidc.New(t)
			op.Set(func(op *fakeoidc.OP) { op.NoRefresh = true })
			clk := testenv.NewClock(time.Now().Truncate(time.Second))
			conn, err := login.NewOIDC(config.IdentityProvider{ID: "corp", Type: "oidc", Issuer: op.Issuer,
				ClientID: fakeoidc.ClientID, ClientSecret: fakeoidc.ClientSecret,
				Scopes: []string{"openid", "profile", "email"}, GroupsClaim: "groups"},
				login.WithHTTPClient(op.Client()), login.WithClock(clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			g := testenv.New(t, testenv.Options{Now: clk.Now, Connectors: []login.Connector{conn}})
			f, refresh := oidcGrant(t, g, g.NewBrowser(), op, "corp")

			var calls int
			op.Set(func(op *fakeoidc.OP) { calls = op.UserinfoCalls })
			clk.Advance(20 * time.Minute) // due for a re-check; the IdP token lives
			next := g.RefreshFlow(f, refresh, nil)
			if next.Status != http.StatusOK {
				t.Fatalf("refresh with a re-check the IdP answers: %d %s", next.Status, next.Raw)
			}
			op.Set(func(op *fakeoidc.OP) {
				if op.UserinfoCalls != calls+1 {
					t.Errorf("the re-check made %d userinfo calls, want 1", op.UserinfoCalls-calls)
				}
			})

			end(op, clk)
			testenv.RequireOAuthError(t, g.RefreshFlow(f, next.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
			if e := g.RequireAudit(t, "token_revoked", "reason", "user_gone", 0); e.User != "corp:user-1" {
				t.Fatalf("revocation audited as %+v", e)
			}
		})
	}
}
