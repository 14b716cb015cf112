package oauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// End-to-end tests of the token endpoint's authorization_code grant (SPEC
// AS-4, AS-5; RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 8707 §2) against a real
// gateway. Shared helpers for the token, revocation and introspection tests
// live at the end of this file.

func TestCodeGrantResponseFormat(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	_, r := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Alice)

	// RFC 6749 §5.1: a response carrying tokens must never be cached.
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Errorf("Cache-Control %q, Pragma %q; want no-store, no-cache", r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
	}
	if r.Get("token_type") != "Bearer" || r.JSON["expires_in"] != float64(600) || r.Get("scope") != "files:read" {
		t.Errorf("token_type, expires_in, scope = %v, %v, %v; want Bearer, 600, files:read", r.JSON["token_type"], r.JSON["expires_in"], r.JSON["scope"])
	}
	if r.Get("refresh_token") == "" {
		t.Errorf("no refresh_token for %s, which is registered for it", testenv.PublicClient)
	}
	at := r.Get("access_token")
	// RFC 9068 §2.1: typ at+jwt keeps other JWTs from passing as access
	// tokens; kid names a published key; ES256 is the default (SPEC AS-5).
	h := testenv.JWTHeader(t, at)
	if h["typ"] != "at+jwt" || h["alg"] != "ES256" || h["kid"] == nil || h["kid"] == "" {
		t.Errorf("JWS header %v; want typ at+jwt, alg ES256 and a kid", h)
	}
	now := clock.Now().Unix()
	want := map[string]any{
		"iss": g.URL, "sub": "local:alice", "aud": canonical(t, files), "client_id": testenv.PublicClient,
		"scope": "files:read", "iat": float64(now), "exp": float64(now + 600), "auth_time": float64(now), "idp": "local",
	}
	c := testenv.JWTPayload(t, at)
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %#v, want %#v", k, c[k], v)
		}
	}
	for _, k := range []string{"jti", "sid"} {
		if s, _ := c[k].(string); s == "" {
			t.Errorf("claim %s missing: %v", k, c)
		}
	}
	if _, ok := c["groups"]; ok {
		t.Errorf("alice's token names groups %v, but no policy rule names staff", c["groups"])
	}
	// sid names the refresh family the code started (SPEC AS-5).
	fam, err := g.Store().GetRefreshFamily(t.Context(), c["sid"].(string))
	if err != nil || fam.ClientID != testenv.PublicClient || fam.Subject != "local:alice" {
		t.Errorf("sid %v does not name alice's family: %+v, %v", c["sid"], fam, err)
	}
	g.RequireValid(t, at, files)
}

// SPEC AS-5: only the groups some policy rule names go into a token; the
// test config restricts admin:all to group admins and names staff nowhere.
func TestCodeGrantGroupsClaim(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	_, r := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.Resource(testenv.AdminPath), testenv.Bob)
	c := testenv.JWTPayload(t, r.Get("access_token"))
	if got, _ := c["groups"].([]any); !slices.Equal(got, []any{"admins"}) {
		t.Errorf("bob's groups claim %v, want [admins] (staff is named by no policy)", c["groups"])
	}
	if c["scope"] != "admin:all" {
		t.Errorf("bob's scope %v, want admin:all", c["scope"])
	}
}

// RFC 7636 §4.6: the verifier must hash to the challenge, and §4.1 allows
// only 43 to 128 unreserved characters; anything else is invalid_grant, so
// a stolen code is useless without the verifier.
func TestCodeGrantPKCE(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	b := g.NewBrowser()
	files := g.Resource(testenv.FilesPath)
	cases := []struct {
		name  string
		pkce  testenv.PKCE
		extra url.Values
	}{
		{"wrong verifier", testenv.NewPKCE(), url.Values{"code_verifier": {testenv.NewPKCE().Verifier}}},
		{"missing verifier", testenv.NewPKCE(), url.Values{"code_verifier": nil}},
		// The challenge is the verifier's real S256 hash: only the length
		// rule can refuse these.
		{"42-character verifier", pkceFor(strings.Repeat("a", 42)), nil},
		{"129-character verifier", pkceFor(strings.Repeat("a", 129)), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := g.NewFlow(testenv.PublicClient, files)
			f.PKCE = tc.pkce
			f = g.AuthorizeFlow(b, f, testenv.Alice, nil)
			testenv.RequireOAuthError(t, g.Exchange(f, tc.extra), http.StatusBadRequest, "invalid_grant")
		})
	}
	t.Run("43-character verifier", func(t *testing.T) {
		f := g.NewFlow(testenv.PublicClient, files)
		f.PKCE = pkceFor(strings.Repeat("a", 43))
		if r := g.Exchange(g.AuthorizeFlow(b, f, testenv.Alice, nil), nil); r.Status != http.StatusOK {
			t.Fatalf("shortest valid verifier refused: %d %s", r.Status, r.Raw)
		}
	})
}

// SPEC AS-4, RFC 6749 §4.1.2, RFC 9700 §4.5: a code used twice means it
// leaked; everything its first exchange issued is revoked, the access
// token included (AS-5a), and the replay is audited.
func TestCodeReplayRevokesWhatItIssued(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, first := g.Tokens(g.NewBrowser(), testenv.ConfidentialClient, files, testenv.Alice)
	at, rt := first.Get("access_token"), first.Get("refresh_token")
	g.RequireValid(t, at, files)
	if r := g.Introspect(at, f.Client, f.Secret); r.JSON["active"] != true {
		t.Fatalf("before the replay, introspection says %s", r.Raw)
	}

	testenv.RequireOAuthError(t, g.Exchange(f, nil), http.StatusBadRequest, "invalid_grant")

	g.RequireRevoked(t, at, files)
	testenv.RequireInactive(t, g.Introspect(at, f.Client, f.Secret))
	testenv.RequireInactive(t, g.Introspect(rt, f.Client, f.Secret))
	testenv.RequireOAuthError(t, g.RefreshFlow(f, rt, nil), http.StatusBadRequest, "invalid_grant")
	g.RequireAudit(t, "suspicious_activity", "reason", "authorization_code_replay", 80)
	g.RequireAudit(t, "token_revoked", "reason", "code_replay", 0)
}

// SPEC AS-4: a code is bound to its client, redirect URI and a ~60 s life
// (RFC 6749 §4.1.3, §4.1.2).
func TestCodeBindings(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	b := g.NewBrowser()
	files := g.Resource(testenv.FilesPath)
	code := func() testenv.Flow {
		return g.AuthorizeFlow(b, g.NewFlow(testenv.PublicClient, files), testenv.Alice, nil)
	}
	t.Run("another client", func(t *testing.T) {
		// test-norefresh is public and registers the same redirect URI, so
		// only the client binding can refuse it.
		f := code()
		f.Client = testenv.NoRefreshClient
		testenv.RequireOAuthError(t, g.Exchange(f, nil), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("redirect_uri with another loopback port", func(t *testing.T) {
		f := g.NewFlow(testenv.PublicClient, files)
		f.Redirect = "http://127.0.0.1:5555/callback" // RFC 8252 §7.3: allowed at /authorize
		f = g.AuthorizeFlow(b, f, testenv.Alice, nil)
		testenv.RequireOAuthError(t, g.Exchange(f, url.Values{"redirect_uri": {"http://127.0.0.1/callback"}}), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("redirect_uri missing", func(t *testing.T) {
		testenv.RequireOAuthError(t, g.Exchange(code(), url.Values{"redirect_uri": nil}), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("59 s old", func(t *testing.T) {
		f := code()
		clock.Advance(59 * time.Second)
		if r := g.Exchange(f, nil); r.Status != http.StatusOK {
			t.Fatalf("a 59 s old code was refused: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("61 s old", func(t *testing.T) {
		f := code()
		clock.Advance(61 * time.Second)
		testenv.RequireOAuthError(t, g.Exchange(f, nil), http.StatusBadRequest, "invalid_grant")
	})
}

// RFC 8707 §2, SPEC AS-4: a resource sent to the token endpoint must
// canonically equal the code's; a code cannot buy a token for another
// upstream.
func TestCodeGrantResource(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	b := g.NewBrowser()
	files := g.Resource(testenv.FilesPath)
	exchange := func(resource ...string) testenv.Reply {
		f := g.AuthorizeFlow(b, g.NewFlow(testenv.PublicClient, files), testenv.Alice, nil)
		return g.Exchange(f, url.Values{"resource": resource})
	}
	testenv.RequireOAuthError(t, exchange(g.Resource(testenv.AdminPath)), http.StatusBadRequest, "invalid_target")
	testenv.RequireOAuthError(t, exchange(files, g.Resource(testenv.AdminPath)), http.StatusBadRequest, "invalid_target")
	spelled := "HTTP://" + strings.TrimPrefix(files, "http://") + "/"
	r := exchange(spelled)
	if r.Status != http.StatusOK {
		t.Fatalf("resource %s (same, other spelling): %d %s", spelled, r.Status, r.Raw)
	}
	if aud := testenv.JWTPayload(t, r.Get("access_token"))["aud"]; aud != canonical(t, files) {
		t.Errorf("aud %v, want %s", aud, canonical(t, files))
	}
}

// RFC 6749 §2.3.1, §5.2: a client authenticates exactly as it registered
// (SPEC AS-4); every failure is invalid_client, 401 with a Basic challenge
// when Basic was tried. The dummy code would fail with invalid_grant, so
// any client that got past authentication shows up as the wrong error.
func TestTokenClientAuthentication(t *testing.T) {
	t.Parallel()
	g, _ := tokenGateway(t, nil)
	codeForm := func() url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {"dummy"}, "redirect_uri": {"https://app.example/cb"}, "code_verifier": {testenv.NewPKCE().Verifier}}
	}
	form := func(kv ...string) url.Values {
		f := codeForm()
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	cases := []struct {
		name, clientID, secret string // secret: HTTP Basic
		form                   url.Values
		basicChallenge         bool
	}{
		{"wrong secret", testenv.ConfidentialClient, "wrong-" + testenv.ConfidentialSecret, codeForm(), true},
		{"client_secret_post for a basic client", "", "", form("client_id", testenv.ConfidentialClient, "client_secret", testenv.ConfidentialSecret), false},
		{"public client sends a secret", "", "", form("client_id", testenv.PublicClient, "client_secret", "anything-at-all"), false},
		{"public client uses Basic", testenv.PublicClient, "anything-at-all", codeForm(), true},
		{"unknown client", "", "", form("client_id", "no-such-client"), false},
		{"no client", "", "", codeForm(), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := g.CallForm("/oauth/token", tc.form, tc.clientID, tc.secret)
			testenv.RequireOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
			if got := strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic"); got != tc.basicChallenge {
				t.Errorf("WWW-Authenticate %q; want a Basic challenge: %v", r.Header.Get("WWW-Authenticate"), tc.basicChallenge)
			}
		})
	}
	t.Run("client without the refresh_token grant", func(t *testing.T) {
		f, r := g.Tokens(g.NewBrowser(), testenv.NoRefreshClient, g.Resource(testenv.FilesPath), testenv.Alice)
		if _, ok := r.JSON["refresh_token"]; ok {
			t.Fatalf("%s got a refresh token it did not register for: %s", f.Client, r.Raw)
		}
		testenv.RequireOAuthError(t, g.RefreshFlow(f, "x.y", nil), http.StatusBadRequest, "unauthorized_client")
	})
	t.Run("unsupported grant_type", func(t *testing.T) {
		for _, gt := range []string{"password", "client_credentials", "implicit", ""} {
			r := g.CallForm("/oauth/token", url.Values{"grant_type": {gt}}, testenv.PublicClient, "")
			testenv.RequireOAuthError(t, r, http.StatusBadRequest, "unsupported_grant_type")
		}
	})
	t.Run("JSON body", func(t *testing.T) {
		r := g.Call("/oauth/token", "application/json", `{"grant_type":"authorization_code","client_id":"test-public"}`, nil)
		testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_request")
	})
}

// --- helpers shared by the token, revocation and introspection tests ---

// tokenGateway starts a gateway on SQLite whose clock stands still until
// the test advances it. The clock starts on a whole second, so that
// Advance(time.Second) lands in a later second: the kill switch's epoch
// and iat have second granularity.
func tokenGateway(t *testing.T, opts *testenv.Options) (*testenv.Gateway, *testenv.Clock) {
	t.Helper()
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	o := testenv.Options{}
	if opts != nil {
		o = *opts
	}
	o.Now = clock.Now
	return testenv.New(t, o), clock
}

func canonical(t *testing.T, resource string) string {
	t.Helper()
	c, err := tokens.CanonicalResource(resource)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pkceFor pairs verifier with its S256 challenge, whatever its length.
func pkceFor(verifier string) testenv.PKCE {
	sum := sha256.Sum256([]byte(verifier))
	return testenv.PKCE{Verifier: verifier, Challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}
