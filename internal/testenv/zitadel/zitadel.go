// Package zitadel logs a test user in at the zitadel/oidc example OpenID
// Provider (v3.51.17), the real third-party OP that CI runs (SPEC §10;
// .ci/zitadel-op starts it and sets MCPGATE_TEST_ZITADEL). Tests of the
// external-AS verifier and of the gateway's resource-server-only routes
// share it.
//
// What the OP issues: every client of the example has access token type
// "Bearer", so access tokens are opaque (a JWE, five dot-separated parts)
// and are checked by introspection. Its introspection answer carries no
// aud and no iss; it answers active only to a client in the token's
// audience (the client id). The OP signs no JWT access tokens; its ID
// tokens are RS256 with a kid, from the discovered jwks_uri.
//
// How a test gets a token without a browser: the authorization code flow
// with the "web" client (secret "secret", registered redirect URI
// Redirect), posting the plain-HTML login form at /login/username as
// test-user@localhost / verysecure, then redeeming the code with
// client_secret_basic and PKCE.
package zitadel

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// SkipMessage is what Login skips with when no OP is configured; CI fails
// a run whose log contains it.
const SkipMessage = "MCPGATE_TEST_ZITADEL not set: zitadel OP tests skipped"

// The example OP's confidential client the login uses, and the subject
// of its test user.
const (
	ClientID     = "web"
	ClientSecret = "secret"
	Subject      = "id1"
)

// Redirect is the web client's redirect URI; .ci/zitadel-op sets the
// OP's REDIRECT_URI to it. Nothing listens there: Login reads the code
// from the redirect.
const Redirect = "http://localhost:9999/auth/callback"

// Tokens are the OP's endpoints and the tokens of one login.
type Tokens struct {
	Issuer, Introspection, JWKS string
	Access, ID                  string
}

// Login logs the test user in at the OP named by MCPGATE_TEST_ZITADEL and
// returns its tokens; it skips the test with SkipMessage when unset.
func Login(t *testing.T) Tokens {
	t.Helper()
	base := os.Getenv("MCPGATE_TEST_ZITADEL")
	if base == "" {
		t.Skip(SkipMessage)
	}
	c := &http.Client{
		Transport:     Transport(t),
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
		"client_id": {ClientID}, "redirect_uri": {Redirect}, "response_type": {"code"},
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
		"redirect_uri": {Redirect}, "code_verifier": {verifier},
	}
	req, _ := http.NewRequest("POST", md.Token, strings.NewReader(tokenForm.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(ClientID, ClientSecret)
	var tok struct {
		Access string `json:"access_token"`
		ID     string `json:"id_token"`
	}
	doJSON(t, c, req, &tok)
	if tok.Access == "" || tok.ID == "" {
		t.Fatalf("token response without access or ID token: %+v", tok)
	}
	return Tokens{md.Issuer, md.IntrospectionEndpoint, md.JWKS, tok.Access, tok.ID}
}

// Transport is a transport of the test's own, closed at the end so no
// keep-alive connection to the OP outlives the test (goleak).
func Transport(t *testing.T) *http.Transport {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
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
