package oauth_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// A replayed code revokes what its first exchange issued even when the
// client gets no refresh token: the grant's sid has no family record, and
// the access token must still die through the revocation log (SPEC AS-4,
// AS-5a).
func TestCodeReplayRevokesAccessTokenWithoutRefreshFamily(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	f, first := g.Tokens(b, testenv.NoRefreshClient, g.Resource(testenv.FilesPath), testenv.Alice)
	if first.Get("refresh_token") != "" {
		t.Fatal("the no-refresh client got a refresh token")
	}
	access := first.Get("access_token")
	if _, err := g.VerifyAccess(access, f.Resource); err != nil {
		t.Fatalf("fresh access token: %v", err)
	}
	if replay := g.Exchange(f, nil); replay.Status != http.StatusBadRequest || replay.Get("error") != "invalid_grant" {
		t.Fatalf("replayed code: %d %s", replay.Status, replay.Raw)
	}
	if _, err := g.VerifyAccess(access, f.Resource); !errors.Is(err, tokens.ErrRevokedToken) {
		t.Fatalf("access token after the replay: %v, want revoked", err)
	}
}
