package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/testenv"
)

// End-to-end tests of token revocation (RFC 7009, SPEC AS-8) and of its
// reach to access tokens (SPEC AS-5a).

// RFC 7009 §2.1: revoking a refresh token ends its grant; SPEC AS-5a: the
// access tokens minted from it die with it. A public client authenticates
// with its client_id alone.
func TestRevokeRefreshTokenEndsFamily(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	b := g.NewBrowser()
	for _, hint := range []string{"", "refresh_token", "access_token"} {
		t.Run("hint "+hint, func(t *testing.T) {
			f, first := g.Tokens(b, testenv.PublicClient, files, testenv.Alice)
			second := g.RefreshFlow(f, first.Get("refresh_token"), nil)
			rt := second.Get("refresh_token")
			// §2.1: a wrong hint only costs the server a second lookup.
			form := url.Values{"token": {rt}}
			if hint != "" {
				form.Set("token_type_hint", hint)
			}
			r := g.CallForm("/oauth/revoke", form, f.Client, "")
			requireRevokeOK(t, r)

			testenv.RequireOAuthError(t, g.RefreshFlow(f, rt, nil), http.StatusBadRequest, "invalid_grant")
			g.RequireRevoked(t, first.Get("access_token"), files)
			g.RequireRevoked(t, second.Get("access_token"), files)
		})
	}
	g.RequireAudit(t, "token_revoked", "reason", "revoked_by_client", 0)
}

// RFC 7009 §2.2: an invalid or unknown token still gets 200, so the
// endpoint tells nobody which tokens exist. The request itself must be
// well formed and authenticated (§2.1, §2.2.1).
func TestRevokeUnknownToken(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	for _, token := range []string{
		"garbage",
		"a.b.c",
		"AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // a handle's shape
		strings.Repeat("x", 9000),
	} {
		requireRevokeOK(t, g.Revoke(token, testenv.PublicClient, ""))
		requireRevokeOK(t, g.Revoke(token, testenv.ConfidentialClient, testenv.ConfidentialSecret))
	}
	testenv.RequireOAuthError(t, g.CallForm("/oauth/revoke", url.Values{}, testenv.PublicClient, ""), http.StatusBadRequest, "invalid_request")
	testenv.RequireOAuthError(t, g.Revoke("garbage", testenv.ConfidentialClient, "wrong"), http.StatusUnauthorized, "invalid_client")
	testenv.RequireOAuthError(t, g.Revoke("garbage", "no-such-client", ""), http.StatusUnauthorized, "invalid_client")
}

// RFC 7009 §2.1: the server checks the token was issued to the client
// asking. Another client is answered 200 like anyone else, but the tokens
// keep working: holding a stolen token must not let a client end someone
// else's grant, and the answer does not say the token was foreign.
func TestRevokeOtherClientsToken(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, r := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Alice)
	at, rt := r.Get("access_token"), r.Get("refresh_token")
	for _, other := range []testenv.Flow{g.NewFlow(testenv.ConfidentialClient, files), g.NewFlow(testenv.NoRefreshClient, files)} {
		requireRevokeOK(t, g.Revoke(rt, other.Client, other.Secret))
		requireRevokeOK(t, g.Revoke(at, other.Client, other.Secret))
	}
	g.RequireValid(t, at, files)
	clock.Advance(pastGrace) // a revoked or consumed rt would now fail
	if r := g.RefreshFlow(f, rt, nil); r.Status != http.StatusOK {
		t.Fatalf("refresh after another client's revocation: %d %s", r.Status, r.Raw)
	}
}

// RFC 7009 §2.1, SPEC AS-8: revoking an access token revokes that token
// (its jti) and nothing else of its grant.
func TestRevokeAccessToken(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, first := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Alice)
	second := g.RefreshFlow(f, first.Get("refresh_token"), nil)
	at1, at2 := first.Get("access_token"), second.Get("access_token")

	requireRevokeOK(t, g.Revoke(at1, f.Client, ""))

	g.RequireRevoked(t, at1, files)
	g.RequireValid(t, at2, files)
	if r := g.RefreshFlow(f, second.Get("refresh_token"), nil); r.Status != http.StatusOK {
		t.Fatalf("refresh after revoking one access token: %d %s", r.Status, r.Raw)
	}
	g.RequireAudit(t, "token_revoked", "kind", "access_token", 0)
}

// requireRevokeOK: RFC 7009 §2.2, 200 with an empty body, uncacheable.
func requireRevokeOK(t *testing.T, r testenv.Reply) {
	t.Helper()
	if r.Status != http.StatusOK || r.Raw != "" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("revocation: %d %q (Cache-Control %q); want 200, empty, no-store", r.Status, r.Raw, r.Header.Get("Cache-Control"))
	}
}
