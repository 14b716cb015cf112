package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/testenv"
)

// End-to-end tests of token introspection (RFC 7662, SPEC AS-8).

// RFC 7662 §2.1, §4: the endpoint needs client authentication, and a
// public client has none, so it may not use it: otherwise anyone could
// test stolen or guessed tokens against it.
func TestIntrospectionNeedsConfidentialClient(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	_, r := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
	at := r.Get("access_token")
	cases := []struct{ name, client, secret string }{
		{"public client", testenv.PublicClient, ""},
		{"no client", "", ""},
		{"wrong secret", testenv.ConfidentialClient, "wrong-" + testenv.ConfidentialSecret},
		{"unknown client", "no-such-client", "some-secret-of-no-one-0123456789"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.RequireOAuthError(t, g.Introspect(at, tc.client, tc.secret), http.StatusUnauthorized, "invalid_client")
		})
	}
	testenv.RequireOAuthError(t, g.CallForm("/oauth/introspect", url.Values{}, testenv.ConfidentialClient, testenv.ConfidentialSecret),
		http.StatusBadRequest, "invalid_request")
}

// RFC 7662 §2.2: an active token is described; SPEC AS-8 lets a client
// learn about its own tokens.
func TestIntrospectOwnTokens(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, r := g.Tokens(g.NewBrowser(), testenv.ConfidentialClient, files, testenv.Alice)
	claims := testenv.JWTPayload(t, r.Get("access_token"))

	at := g.Introspect(r.Get("access_token"), f.Client, f.Secret)
	want := map[string]any{
		"active": true, "scope": "files:read", "client_id": testenv.ConfidentialClient, "sub": "local:alice",
		"aud": canonical(t, files), "iss": g.URL, "exp": claims["exp"], "iat": claims["iat"], "jti": claims["jti"],
		"token_type": "Bearer",
	}
	requireMembers(t, at, want)

	rt := g.Introspect(r.Get("refresh_token"), f.Client, f.Secret)
	requireMembers(t, rt, map[string]any{
		"active": true, "scope": "files:read", "client_id": testenv.ConfidentialClient, "sub": "local:alice",
		"aud": canonical(t, files), "iss": g.URL, "token_type": "refresh_token",
	})

	// Past its exp (and the verifier's skew) the access token is
	// inactive; the refresh token lives on.
	clock.Advance(11 * time.Minute)
	testenv.RequireInactive(t, g.Introspect(r.Get("access_token"), f.Client, f.Secret))
	requireMembers(t, g.Introspect(r.Get("refresh_token"), f.Client, f.Secret), map[string]any{"active": true})
}

// SPEC AS-8: another client's token, a garbage token, and a revoked token
// are all just {"active": false}: no member says which it was.
func TestIntrospectInactiveTokens(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	conf := g.NewFlow(testenv.ConfidentialClient, files)
	b := g.NewBrowser()
	t.Run("another client's tokens", func(t *testing.T) {
		_, r := g.Tokens(b, testenv.PublicClient, files, testenv.Alice)
		testenv.RequireInactive(t, g.Introspect(r.Get("access_token"), conf.Client, conf.Secret))
		testenv.RequireInactive(t, g.Introspect(r.Get("refresh_token"), conf.Client, conf.Secret))
	})
	t.Run("garbage", func(t *testing.T) {
		for _, token := range []string{"garbage", "a.b.c", strings.Repeat("x", 9000)} {
			testenv.RequireInactive(t, g.Introspect(token, conf.Client, conf.Secret))
		}
	})
	t.Run("revoked refresh token", func(t *testing.T) {
		_, r := g.Tokens(b, conf.Client, files, testenv.Alice)
		requireMembers(t, g.Introspect(r.Get("access_token"), conf.Client, conf.Secret), map[string]any{"active": true})
		requireRevokeOK(t, g.Revoke(r.Get("refresh_token"), conf.Client, conf.Secret))
		testenv.RequireInactive(t, g.Introspect(r.Get("access_token"), conf.Client, conf.Secret))
		testenv.RequireInactive(t, g.Introspect(r.Get("refresh_token"), conf.Client, conf.Secret))
	})
	t.Run("revoked access token", func(t *testing.T) {
		_, r := g.Tokens(b, conf.Client, files, testenv.Alice)
		requireRevokeOK(t, g.Revoke(r.Get("access_token"), conf.Client, conf.Secret))
		testenv.RequireInactive(t, g.Introspect(r.Get("access_token"), conf.Client, conf.Secret))
		requireMembers(t, g.Introspect(r.Get("refresh_token"), conf.Client, conf.Secret), map[string]any{"active": true})
	})
}

// requireMembers fails unless r is a 200, uncacheable introspection
// response with every member of want.
func requireMembers(t *testing.T, r testenv.Reply, want map[string]any) {
	t.Helper()
	if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("introspection: %d %s (Cache-Control %q)", r.Status, r.Raw, r.Header.Get("Cache-Control"))
	}
	for k, v := range want {
		if r.JSON[k] != v {
			t.Errorf("introspection member %s = %#v, want %#v (%s)", k, r.JSON[k], v, r.Raw)
		}
	}
}
