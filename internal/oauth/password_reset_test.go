package oauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// SPEC AS-6: an operator resetting a local user's password (a new
// password_hash in the config) ends that user's grants at their next
// re-check: the connector's per-user stamp, kept sealed since login, no
// longer matches.
func TestPasswordResetEndsGrantsAtRecheck(t *testing.T) {
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, r := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Alice)
	if _, err := g.Store().GetUpstreamToken(t.Context(), "local:"+testenv.Alice, "local"); err != nil {
		t.Fatalf("the connector's per-user data was not kept: %v", err)
	}

	reset, err := login.HashArgon2idParams("a brand new password", 8<<10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	g.Config.IdentityProviders[0].Users[0].PasswordHash = reset // alice
	g = g.Restart(t, testenv.Options{Now: clock.Now})

	clock.Advance(16 * time.Minute) // due for a re-check
	testenv.RequireOAuthError(t, g.RefreshFlow(f, r.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
	if ev := g.AuditEvents("token_revoked"); len(ev) == 0 || ev[len(ev)-1].Details["reason"] != "user_gone" {
		t.Fatalf("no token_revoked with reason user_gone: %+v", ev)
	}
}
