package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// loopbackCB is the redirect URI registered for the public test clients.
const loopbackCB = "http://127.0.0.1/callback"

// publicParams are the parameters of a valid public-client request for the
// files upstream.
func publicParams(g *testenv.Gateway, p testenv.PKCE) url.Values {
	return g.AuthParams(testenv.PublicClient, loopbackCB, g.Resource(testenv.FilesPath), p)
}

// issueToken runs params through consent and login as username and redeems
// the code; it returns the token response.
func issueToken(t *testing.T, g *testenv.Gateway, b *testenv.Browser, params url.Values, p testenv.PKCE, username string) map[string]any {
	t.Helper()
	loc := b.Authorize(params, username)
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	status, body := g.ExchangeCode(params.Get("client_id"), "", code, params.Get("redirect_uri"), p)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	return body
}

// requireRedirectError checks an error sent back to the client (RFC 6749
// §4.1.2.1) with state echoed and the issuer named byte for byte (RFC 9207
// §2: a mix-up attack is only caught if iss is exactly the issuer).
func requireRedirectError(t *testing.T, g *testenv.Gateway, resp testenv.Response, status int, redirectURI, code, state string) {
	t.Helper()
	q := testenv.ClientRedirect(t, resp, status, redirectURI)
	if got := q.Get("error"); got != code {
		t.Errorf("error = %q, want %q (%s)", got, code, q.Get("error_description"))
	}
	if got := q.Get("state"); got != state {
		t.Errorf("state = %q, want %q", got, state)
	}
	if got := q.Get("iss"); got != g.URL {
		t.Errorf("iss = %q, want %q", got, g.URL)
	}
	if q.Has("code") {
		t.Errorf("error redirect carries a code: %v", q)
	}
}

// TestAuthorizePKCES256Required: a request without S256 PKCE is refused
// (OAuth 2.1 §4.1.1, RFC 9700 §2.1.1): "plain" or no method would let
// whoever sees the authorization request redeem the code.
func TestAuthorizePKCES256Required(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	cases := map[string]func(url.Values){
		"missing challenge":    func(v url.Values) { v.Del("code_challenge") },
		"method plain":         func(v url.Values) { v.Set("code_challenge_method", "plain") },
		"method missing":       func(v url.Values) { v.Del("code_challenge_method") },
		"method lower-case":    func(v url.Values) { v.Set("code_challenge_method", "s256") },
		"challenge too short":  func(v url.Values) { v.Set("code_challenge", v.Get("code_challenge")[:42]) },
		"challenge padded":     func(v url.Values) { v.Set("code_challenge", v.Get("code_challenge")[:42]+"=") },
		"challenge not base64": func(v url.Values) { v.Set("code_challenge", v.Get("code_challenge")[:42]+"+") },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			params := publicParams(g, testenv.NewPKCE())
			mutate(params)
			resp := b.Get("/oauth/authorize?" + params.Encode())
			requireRedirectError(t, g, resp, http.StatusFound, loopbackCB, "invalid_request", "xyz-state")
		})
	}
}

// TestAuthorizeResponseTypeMustBeCode: only the code flow exists (OAuth
// 2.1 §4.1.1); anything else is unsupported_response_type.
func TestAuthorizeResponseTypeMustBeCode(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	for _, rt := range []string{"token", "code id_token", ""} {
		params := publicParams(g, testenv.NewPKCE())
		params.Set("response_type", rt)
		resp := b.Get("/oauth/authorize?" + params.Encode())
		requireRedirectError(t, g, resp, http.StatusFound, loopbackCB, "unsupported_response_type", "xyz-state")
	}
}

// TestAuthorizeUnknownClientIsAPageNotARedirect: with no known client there
// is no trusted redirect URI, so redirecting would make the AS an open
// redirector (RFC 6749 §4.1.2.1, RFC 9700 §4.11). Other errors in the same
// request must not win over that.
func TestAuthorizeUnknownClientIsAPageNotARedirect(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	for name, id := range map[string]string{"unknown": "no-such-client", "missing": "", "unfetchable CIMD": "https://127.0.0.1:1/client.json"} {
		t.Run(name, func(t *testing.T) {
			params := publicParams(g, testenv.NewPKCE())
			params.Set("client_id", id)
			params.Del("code_challenge") // a redirect-class error too
			testenv.RequireErrorPage(t, b.Get("/oauth/authorize?"+params.Encode()), http.StatusBadRequest)
		})
	}
}

// TestAuthorizeRedirectURIMismatchIsAPageNotARedirect: the redirect URI
// must match a registered one exactly (RFC 9700 §4.1.3); only a loopback
// URI's port may vary (RFC 8252 §7.3), not a web URI's. A mismatch is shown
// on a page: redirecting to the unregistered URI would deliver the error,
// and with it the user, to the attacker.
func TestAuthorizeRedirectURIMismatchIsAPageNotARedirect(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	cases := []struct{ name, client, uri string }{
		{"different host", testenv.ConfidentialClient, "https://evil.example/cb"},
		{"different path", testenv.ConfidentialClient, "https://app.example/cb2"},
		{"path prefix", testenv.ConfidentialClient, "https://app.example/cb/more"},
		{"extra query", testenv.ConfidentialClient, "https://app.example/cb?x=1"},
		{"fragment", testenv.ConfidentialClient, "https://app.example/cb#frag"},
		{"userinfo", testenv.ConfidentialClient, "https://evil@app.example/cb"},
		{"non-loopback port added", testenv.ConfidentialClient, "https://app.example:8443/cb"},
		{"http instead of https", testenv.ConfidentialClient, "http://app.example/cb"},
		{"loopback other host", testenv.PublicClient, "http://localhost:54321/callback"},
		{"loopback other path", testenv.PublicClient, "http://127.0.0.1:54321/other"},
		{"loopback fragment", testenv.PublicClient, "http://127.0.0.1:54321/callback#x"},
		{"private-use scheme other path", testenv.PublicClient, "cursor://test/other"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			params := g.AuthParams(c.client, c.uri, g.Resource(testenv.FilesPath), testenv.NewPKCE())
			testenv.RequireErrorPage(t, b.Get("/oauth/authorize?"+params.Encode()), http.StatusBadRequest)
		})
	}
}

// TestAuthorizeRepeatedParameterIsAPage: RFC 6749 §3.1 forbids repeated
// parameters; two redirect_uri values could be read differently by the
// check and by the redirect.
func TestAuthorizeRepeatedParameterIsAPage(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	for _, extra := range []string{"redirect_uri=" + url.QueryEscape("https://evil.example/cb"), "client_id=" + testenv.ConfidentialClient, "state=again"} {
		query := publicParams(g, testenv.NewPKCE()).Encode() + "&" + extra
		testenv.RequireErrorPage(t, b.Get("/oauth/authorize?"+query), http.StatusBadRequest)
	}
}

// TestAuthorizeLoopbackPortMayVary: a native app listens on an ephemeral
// port (RFC 8252 §7.3), so http://127.0.0.1:<any>/callback matches the
// registered http://127.0.0.1/callback, and the code goes to the URI the
// app asked for, port included.
func TestAuthorizeLoopbackPortMayVary(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	p := testenv.NewPKCE()
	const uri = "http://127.0.0.1:54321/callback"
	params := g.AuthParams(testenv.PublicClient, uri, g.Resource(testenv.FilesPath), p)
	loc := g.NewBrowser().Authorize(params, testenv.Alice)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != uri {
		t.Fatalf("code delivered to %s, want %s", loc, uri)
	}
	status, body := g.ExchangeCode(testenv.PublicClient, "", loc.Query().Get("code"), uri, p)
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
}

// TestAuthorizePrivateUseSchemeForPublicClient: a registered private-use
// scheme (RFC 8252 §7.1) receives the code.
func TestAuthorizePrivateUseSchemeForPublicClient(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	p := testenv.NewPKCE()
	const uri = "cursor://test/callback"
	params := g.AuthParams(testenv.PublicClient, uri, g.Resource(testenv.FilesPath), p)
	loc := g.NewBrowser().Authorize(params, testenv.Alice)
	if !strings.HasPrefix(loc.String(), uri+"?") || loc.Query().Get("code") == "" {
		t.Fatalf("code not delivered to %s: %s", uri, loc)
	}
	if status, body := g.ExchangeCode(testenv.PublicClient, "", loc.Query().Get("code"), uri, p); status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
}

// TestAuthorizeResourceMustBeConfigured: RFC 8707 §2 invalid_target for a
// resource this AS does not serve, and for none at all when it cannot
// guess which of several upstreams is meant (SPEC AS-2).
func TestAuthorizeResourceMustBeConfigured(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	for name, resource := range map[string]string{
		"other path": g.Resource("/mcp/other"), "other origin": "https://evil.example/mcp/files",
		"query": g.Resource(testenv.FilesPath) + "?x=1", "omitted with two upstreams": "",
	} {
		t.Run(name, func(t *testing.T) {
			params := publicParams(g, testenv.NewPKCE())
			if resource == "" {
				params.Del("resource")
			} else {
				params.Set("resource", resource)
			}
			resp := b.Get("/oauth/authorize?" + params.Encode())
			requireRedirectError(t, g, resp, http.StatusFound, loopbackCB, "invalid_target", "xyz-state")
		})
	}
}

// TestAuthorizeResourceDefaultsToSingleUpstream: with one upstream the
// resource may be omitted and the token's audience is that upstream.
func TestAuthorizeResourceDefaultsToSingleUpstream(t *testing.T) {
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) { c.Upstreams = c.Upstreams[:1] }})
	p := testenv.NewPKCE()
	params := publicParams(g, p)
	params.Del("resource")
	tok := issueToken(t, g, g.NewBrowser(), params, p, testenv.Alice)
	claims := testenv.JWTPayload(t, tok["access_token"].(string))
	if claims["aud"] != g.Resource(testenv.FilesPath) {
		t.Fatalf("aud = %v, want %s", claims["aud"], g.Resource(testenv.FilesPath))
	}
}

// TestAuthorizeResourceIsCanonicalised: another spelling of a configured
// resource (scheme or host case, a trailing slash) names the same resource,
// and the token's audience is the canonical form the resource server
// compares byte for byte (RFC 8707 §2, RFC 9068 §3).
func TestAuthorizeResourceIsCanonicalised(t *testing.T) {
	// public_url on "localhost" so the host has letters whose case can vary.
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		c.PublicURL = strings.Replace(c.PublicURL, "127.0.0.1", "localhost", 1)
	}})
	want := g.Resource(testenv.FilesPath)
	for name, spelling := range map[string]string{
		"upper-case host":   strings.Replace(want, "localhost", "LocalHost", 1),
		"upper-case scheme": strings.Replace(want, "http://", "HTTP://", 1),
		"trailing slash":    want + "/",
	} {
		t.Run(name, func(t *testing.T) {
			p := testenv.NewPKCE()
			params := publicParams(g, p)
			params.Set("resource", spelling)
			tok := issueToken(t, g, g.NewBrowser(), params, p, testenv.Alice)
			if aud := testenv.JWTPayload(t, tok["access_token"].(string))["aud"]; aud != want {
				t.Fatalf("aud = %v, want %s", aud, want)
			}
		})
	}
}

// TestAuthorizeScopes: an unknown scope is invalid_scope (RFC 6749
// §4.1.2.1); without a scope the resource's required scopes are asked for.
func TestAuthorizeScopes(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	t.Run("unknown scope is invalid_scope", func(t *testing.T) {
		params := publicParams(g, testenv.NewPKCE())
		params.Set("scope", "files:read files:delete")
		resp := g.NewBrowser().Get("/oauth/authorize?" + params.Encode())
		requireRedirectError(t, g, resp, http.StatusFound, loopbackCB, "invalid_scope", "xyz-state")
	})
	for resource, want := range map[string]string{testenv.FilesPath: "files:read", testenv.AdminPath: "admin:all"} {
		t.Run("no scope requests the scopes of "+resource, func(t *testing.T) {
			p := testenv.NewPKCE()
			params := g.AuthParams(testenv.PublicClient, loopbackCB, g.Resource(resource), p)
			tok := issueToken(t, g, g.NewBrowser(), params, p, testenv.Bob)
			if tok["scope"] != want || testenv.JWTPayload(t, tok["access_token"].(string))["scope"] != want {
				t.Fatalf("scope = %v, want %s", tok["scope"], want)
			}
		})
	}
}

// TestAuthorizePromptNone: prompt=none must not show a page (OpenID
// Connect Core §3.1.2.1): without a browser session the answer is
// login_required, signed in without an approval consent_required, both
// sent back to the client.
func TestAuthorizePromptNone(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	params := publicParams(g, testenv.NewPKCE())
	params.Set("prompt", "none")
	resp := b.Get("/oauth/consent?req=" + b.StartFlow(params))
	requireRedirectError(t, g, resp, http.StatusFound, loopbackCB, "login_required", "xyz-state")

	g.Login(b, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
	params.Set("scope", "files:write") // not approved yet
	resp = b.Get("/oauth/consent?req=" + b.StartFlow(params))
	requireRedirectError(t, g, resp, http.StatusFound, loopbackCB, "consent_required", "xyz-state")
}

// TestAuthorizeStateLength: state is echoed into a redirect, so an
// oversized one is refused and never echoed (SPEC HD-2); 1024 bytes pass.
func TestAuthorizeStateLength(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	params := publicParams(g, testenv.NewPKCE())
	params.Set("state", strings.Repeat("s", 1025))
	resp := b.Get("/oauth/authorize?" + params.Encode())
	requireRedirectError(t, g, resp, http.StatusFound, loopbackCB, "invalid_request", "")
	params.Set("state", strings.Repeat("s", 1024))
	b.StartFlow(params)
}

// TestAuthorizeSuccessCarriesCodeStateAndIss: the success response has the
// code, the client's state unchanged (RFC 6749 §4.1.2) and iss (RFC 9207
// §2), equal to the issuer byte for byte.
func TestAuthorizeSuccessCarriesCodeStateAndIss(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	params := publicParams(g, testenv.NewPKCE())
	params.Set("state", "st&ate=with?odd/chars é")
	loc := g.NewBrowser().Authorize(params, testenv.Alice)
	q := loc.Query()
	if q.Get("code") == "" || q.Get("state") != params.Get("state") || q.Get("iss") != g.URL {
		t.Fatalf("success redirect %s: want code, state %q and iss %q", loc, params.Get("state"), g.URL)
	}
}
