package oauth_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// SPEC AS-3, AS-5a: revoking a consent revokes the grants it allowed: the
// client's refresh token and its access token stop working at once, the
// next flow asks for consent again, and another client's grant for the
// same user is untouched.
func TestRevokeConsentRevokesItsGrants(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	resource := g.Resource(testenv.FilesPath)
	tok := g.Login(b, testenv.PublicClient, resource, testenv.Alice)
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
	_, other := g.Tokens(b, testenv.NoRefreshClient, resource, testenv.Alice)
	otherAccess := other.JSON["access_token"].(string)

	consents, grants, err := g.Server.RevokeConsent(t.Context(), "local:"+testenv.Alice, testenv.PublicClient)
	if err != nil || consents != 1 || grants != 1 {
		t.Fatalf("RevokeConsent = %d consents, %d grants, %v; want 1, 1", consents, grants, err)
	}
	if _, err := g.Server.VerifyAccessToken(t.Context(), access, resource); !errors.Is(err, tokens.ErrRevokedToken) {
		t.Fatalf("access token after consent revocation: %v, want revoked", err)
	}
	if status, body := g.Refresh(testenv.PublicClient, "", refresh, nil); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after consent revocation: %d %v", status, body)
	}
	if _, err := g.Server.VerifyAccessToken(t.Context(), otherAccess, resource); err != nil {
		t.Fatalf("another client's token was revoked too: %v", err)
	}
	params := g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", resource, testenv.NewPKCE())
	if page := b.Get("/oauth/authorize?" + params.Encode()); page.Location() == nil || page.Location().Path != "/oauth/consent" {
		t.Fatalf("authorize did not go to consent: %d", page.StatusCode)
	} else if consent := b.Get(page.Location().String()); consent.StatusCode != http.StatusOK || consent.Location() != nil {
		t.Fatalf("consent was not asked again: %d %v", consent.StatusCode, consent.Location())
	}
}
