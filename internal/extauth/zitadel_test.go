package extauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests run against the zitadel/oidc example OP (v3.51.17), a real
// third-party OpenID Provider (SPEC §10). Start it with .ci/zitadel-op,
// which sets MCPGATE_TEST_ZITADEL.
//
// What the OP issues: every client of the example has access token type
// "Bearer", so access tokens are opaque (a JWE, five dot-separated parts)
// and are checked by introspection. Its introspection answer carries no
// aud and no iss; it answers active only to a client in the token's
// audience (the client id), which is what Introspection.ImpliedAudience
// is for. The OP signs no JWT access tokens, so the JWT path is run with
// the ID token of the same login: RS256 with a kid, from the jwks_uri that
// discovery finds, which is the part of that path a real OP can prove.
//
// How the test gets a token without a browser: the authorization code
// flow with the "web" client (secret "secret", registered redirect URI
// zitadelRedirect), posting the plain-HTML login form at /login/username
// as test-user@localhost / verysecure, then redeeming the code with
// client_secret_basic and PKCE.

const zitadelRedirect = "http://localhost:9999/auth/callback" // .ci/zitadel-op sets the OP's REDIRECT_URI to this

type zitadelTokens struct {
	issuer, introspection, jwks string
	access, id                  string
}

// zitadelLogin logs the test user in at the OP and returns its tokens.
func zitadelLogin(t *testing.T) zitadelTokens {
	base := os.Getenv("MCPGATE_TEST_ZITADEL")
	if base == "" {
		t.Skip("MCPGATE_TEST_ZITADEL not set: zitadel OP tests skipped")
	}
	c := &http.Client{
		Transport:     zitadelTransport(t),
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var md struct {
		Issuer                string `json:"issuer"`
		Authorization         string `json:"authorization_endpoint"`
		Token                 string `json:"token_endpoint"`
		IntrospectionEndpoint string `json:"introspection_endpoint"`
		JWKS                  string `json:"jwks_uri"`
	}
	getJSONT(t, c, strings.TrimSuffix(base, "/")+"/.well-known/openid-configuration", &md)

	verifier := rand.Text() + rand.Text()
	challenge := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {"web"}, "redirect_uri": {zitadelRedirect}, "response_type": {"code"},
		"scope": {"openid email profile"}, "state": {"st-1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
	}
	loginURL := redirect(t, c, "GET", md.Authorization+"?"+q.Encode(), nil)

	// The login page is a plain HTML form; read its hidden id field and
	// post it back as a browser would.
	page := body(t, c, loginURL)
	m := regexp.MustCompile(`name="id" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no id field in the login page:\n%s", page)
	}
	form := url.Values{"id": {html.UnescapeString(m[1])}, "username": {"test-user@localhost"}, "password": {"verysecure"}}
	callback := redirect(t, c, "POST", resolve(t, loginURL, "/login/username"), form)
	back, err := url.Parse(redirect(t, c, "GET", callback, nil))
	if err != nil || back.Query().Get("state") != "st-1" || back.Query().Get("code") == "" {
		t.Fatalf("callback redirect %v", back)
	}

	tokenForm := url.Values{
		"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
		"redirect_uri": {zitadelRedirect}, "code_verifier": {verifier},
	}
	req, _ := http.NewRequest("POST", md.Token, strings.NewReader(tokenForm.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("web", "secret")
	var tok struct {
		Access string `json:"access_token"`
		ID     string `json:"id_token"`
	}
	doJSON(t, c, req, &tok)
	if tok.Access == "" || tok.ID == "" {
		t.Fatalf("token response without access or ID token: %+v", tok)
	}
	return zitadelTokens{md.Issuer, md.IntrospectionEndpoint, md.JWKS, tok.Access, tok.ID}
}

// zitadelTransport is a transport of the test's own, closed at the end so
// no keep-alive connection to the OP outlives the test (goleak).
func zitadelTransport(t *testing.T) *http.Transport {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func zitadelVerifier(t *testing.T, edit func(*Options)) *Verifier {
	opts := Options{
		HTTPClient: &http.Client{Transport: zitadelTransport(t), Timeout: 10 * time.Second},
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	edit(&opts)
	v, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestZitadelOpaqueIntrospection: the OP's access token passes through
// discovery and introspection; other audiences and issuers do not.
func TestZitadelOpaqueIntrospection(t *testing.T) {
	z := zitadelLogin(t)
	if strings.Count(z.access, ".") == 2 {
		t.Fatalf("the OP issued a JWS access token; this test expects opaque ones")
	}
	web := func(edit func(*Options)) *Verifier {
		return zitadelVerifier(t, func(o *Options) {
			o.Issuer, o.Audience = z.issuer, "web"
			o.Introspection = &Introspection{ClientID: "web", ClientSecret: "secret", ImpliedAudience: true}
			if edit != nil {
				edit(o)
			}
		})
	}
	ctx := context.Background()
	c, err := web(nil).Verify(ctx, z.access)
	if err != nil {
		t.Fatalf("valid access token: %v", err)
	}
	if c.Subject != "id1" || c.ClientID != "web" || c.Email != "test-user@zitadel.ch" || !c.EmailVerified ||
		!slices.Equal(c.Scopes, []string{"openid", "email", "profile"}) || time.Until(c.Expiry) <= 0 {
		t.Errorf("claims: %+v", c)
	}

	// Without ImpliedAudience the OP's answer (no aud) is refused.
	_, err = web(func(o *Options) { o.Introspection.ImpliedAudience = false }).Verify(ctx, z.access)
	wantInvalid(t, err, "introspection: no aud", z.access)
	// Another audience: the resource "api" asks about a token for "web",
	// and the OP says inactive ...
	_, err = web(func(o *Options) {
		o.Audience = "api"
		o.Introspection.ClientID = "api"
	}).Verify(ctx, z.access)
	wantInvalid(t, err, "not active", z.access)
	// ... and a gateway configured for another audience refuses it itself.
	_, err = web(func(o *Options) { o.Audience = "mcp" }).Verify(ctx, z.access)
	wantInvalid(t, err, "introspection: wrong audience", z.access)
	// The same OP under another issuer name: its metadata names
	// localhost, so discovery refuses it (RFC 8414 §3.3).
	_, err = web(func(o *Options) { o.Issuer = strings.Replace(z.issuer, "localhost", "127.0.0.1", 1) }).Verify(ctx, z.access)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "metadata issuer differs") {
		t.Fatalf("wrong issuer: want the metadata refused, got %v", err)
	}
}

// TestZitadelJWKS: the OP's RS256 ID token verifies against the discovered
// JWKS; wrong audience and issuer fail.
func TestZitadelJWKS(t *testing.T) {
	z := zitadelLogin(t)
	ctx := context.Background()
	v := zitadelVerifier(t, func(o *Options) { o.Issuer, o.Audience = z.issuer, "web" })
	c, err := v.Verify(ctx, z.id)
	if err != nil {
		t.Fatalf("ID token via discovered JWKS: %v", err)
	}
	if c.Subject != "id1" || c.ClientID != "web" || !v.Ready() {
		t.Errorf("claims: %+v, ready %v", c, v.Ready())
	}

	v = zitadelVerifier(t, func(o *Options) { o.Issuer, o.Audience = z.issuer, "api" })
	_, err = v.Verify(ctx, z.id)
	wantInvalid(t, err, "wrong audience", z.id)

	// Wrong issuer with the endpoints given, so discovery cannot refuse
	// first: the token's own iss check fires.
	v = zitadelVerifier(t, func(o *Options) {
		o.Issuer, o.Audience, o.JWKSURL = "http://localhost:1/", "web", z.jwks
	})
	_, err = v.Verify(ctx, z.id)
	wantInvalid(t, err, "wrong issuer", z.id)

	// Requiring typ at+jwt (RFC 9068) refuses the ID token (typ JWT).
	v = zitadelVerifier(t, func(o *Options) { o.Issuer, o.Audience, o.TokenType = z.issuer, "web", "at+jwt" })
	_, err = v.Verify(ctx, z.id)
	wantInvalid(t, err, "typ is not at+jwt", z.id)
}

// redirect sends a request that must answer with a redirect, and returns
// the absolute Location.
func redirect(t *testing.T, c *http.Client, method, u string, form url.Values) string {
	t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		t.Fatalf("%s %s: status %d, want a redirect\n%s", method, u, resp.StatusCode, b)
	}
	return resolve(t, u, loc)
}

func resolve(t *testing.T, base, ref string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r.String()
}

func body(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d\n%s", u, resp.StatusCode, b)
	}
	return string(b)
}

func getJSONT(t *testing.T, c *http.Client, u string, dst any) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	doJSON(t, c, req, dst)
}

func doJSON(t *testing.T, c *http.Client, req *http.Request, dst any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d\n%s", req.Method, req.URL, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		t.Fatalf("%s %s: %v\n%s", req.Method, req.URL, err, b)
	}
}
