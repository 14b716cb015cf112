package oauth_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// The -update flag rewrites the golden files under testdata/ (STYLE: golden
// files for wire formats). It is registered only if no other file of this
// test package did so first, so two golden-file tests can share it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func updatingGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// matchGolden compares got with testdata/<name>.golden, or rewrites the
// file under -update.
func matchGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if updatingGolden() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed (run go test -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// wireResponse is one HTTP exchange as a client sees it.
type wireResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// wireDo sends one request without cookies or redirects.
func wireDo(t *testing.T, method, target, contentType, body string, header http.Header) wireResponse {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return wireResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// record renders the status, the named headers and the body as the text a
// golden file holds.
func (w wireResponse) record(headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP %d %s\n", w.Status, http.StatusText(w.Status))
	for _, h := range headers {
		if v := w.Header.Values(h); len(v) > 0 {
			b.WriteString(h + ": " + strings.Join(v, ", ") + "\n")
		}
	}
	b.WriteString("\n")
	b.Write(w.Body)
	return b.Bytes()
}

func fetchMetadata(t *testing.T, g *testenv.Gateway) (wireResponse, map[string]any) {
	t.Helper()
	resp := wireDo(t, http.MethodGet, g.URL+"/.well-known/oauth-authorization-server", "", "", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("metadata: %d\n%s", resp.Status, resp.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		t.Fatalf("metadata is not JSON: %v", err)
	}
	return resp, m
}

// TestMetadataGolden pins the whole RFC 8414 document (SPEC AS-1), with the
// random port of the test gateway replaced by https://ISSUER.
func TestMetadataGolden(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	resp, _ := fetchMetadata(t, g)
	got := bytes.ReplaceAll(resp.record("Content-Type", "Cache-Control", "Access-Control-Allow-Origin"), []byte(g.URL), []byte("https://ISSUER"))
	matchGolden(t, "metadata", got)
}

// TestMetadataIssuerIsPublicURL: the issuer is public_url byte for byte,
// in the metadata, in the iss parameter of the authorization response
// (RFC 9207 §2) and in the access token (RFC 9068 §2.2): a client compares
// them exactly, so any difference (a trailing slash, a case change) breaks
// mix-up defence.
func TestMetadataIssuerIsPublicURL(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	_, m := fetchMetadata(t, g)
	if m["issuer"] != g.URL {
		t.Fatalf("issuer = %q, want public_url %q", m["issuer"], g.URL)
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint", "revocation_endpoint", "introspection_endpoint"} {
		if s, _ := m[k].(string); !strings.HasPrefix(s, g.URL+"/oauth/") {
			t.Errorf("%s = %q, want an endpoint under %s/oauth/", k, m[k], g.URL)
		}
	}
	p := testenv.NewPKCE()
	loc := g.NewBrowser().Authorize(g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", g.Resource(testenv.FilesPath), p), testenv.Alice)
	if iss := loc.Query().Get("iss"); iss != g.URL {
		t.Errorf("iss parameter = %q, want %q", iss, g.URL)
	}
	status, tok := g.ExchangeCode(testenv.PublicClient, "", loc.Query().Get("code"), "http://127.0.0.1/callback", p)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	if iss := testenv.JWTPayload(t, tok["access_token"].(string))["iss"]; iss != g.URL {
		t.Errorf("access token iss = %q, want %q", iss, g.URL)
	}
}

// TestMetadataAdvertises checks each member SPEC AS-1 requires, one by
// one, so a regenerated golden file cannot hide a lost one.
func TestMetadataAdvertises(t *testing.T) {
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		// offline_access is in the catalogue even when not configured.
		c.Scopes = slices.DeleteFunc(c.Scopes, func(s config.Scope) bool { return s.Name == "offline_access" })
	}})
	_, m := fetchMetadata(t, g)
	wantList := map[string][]string{
		"code_challenge_methods_supported":      {"S256"},
		"response_types_supported":              {"code"},
		"grant_types_supported":                 {"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": {"none", "client_secret_basic", "client_secret_post"},
	}
	for k, want := range wantList {
		if got := strings.Join(stringList(m[k]), " "); got != strings.Join(want, " ") {
			t.Errorf("%s = [%s], want %v", k, got, want)
		}
	}
	if !slices.Contains(stringList(m["scopes_supported"]), "offline_access") {
		t.Errorf("scopes_supported %v lacks offline_access", m["scopes_supported"])
	}
	for _, k := range []string{"authorization_response_iss_parameter_supported", "client_id_metadata_document_supported"} {
		if m[k] != true {
			t.Errorf("%s = %v, want true", k, m[k])
		}
	}
}

func stringList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// TestMetadataFollowsRegistrationConfig: with dynamic registration off
// the registration_endpoint member is absent (RFC 8414 §2: OPTIONAL) and
// the route does not exist; with CIMD off the flag says so.
func TestMetadataFollowsRegistrationConfig(t *testing.T) {
	off := false
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		c.Registration.Dynamic, c.Registration.CIMD = &off, &off
	}})
	_, m := fetchMetadata(t, g)
	if v, ok := m["registration_endpoint"]; ok {
		t.Errorf("registration_endpoint = %v with registration.dynamic false; want it absent", v)
	}
	if m["client_id_metadata_document_supported"] != false {
		t.Errorf("client_id_metadata_document_supported = %v with registration.cimd false", m["client_id_metadata_document_supported"])
	}
	resp := wireDo(t, http.MethodPost, g.URL+"/oauth/register", "application/json", `{"redirect_uris":["http://127.0.0.1/cb"]}`, nil)
	if resp.Status != http.StatusNotFound && resp.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST /oauth/register with dynamic registration off = %d, want 404 or 405\n%s", resp.Status, resp.Body)
	}
}

// TestWellKnownProbes: mcpgate issues no ID tokens, so OpenID discovery is
// 404 (MCP clients then use RFC 8414); any other probe under /.well-known/
// is 404 too, never a 5xx, which a client could read as "try later".
func TestWellKnownProbes(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/.well-known/openid-configuration"},
		{http.MethodGet, "/.well-known/xyz"},
		{http.MethodGet, "/.well-known/"},
		{http.MethodGet, "/.well-known/openid-configuration/mcp/files"},
		{http.MethodGet, "/.well-known/" + strings.Repeat("a", 2000)},
		{http.MethodGet, "/.well-known/%2e%2e/oauth/jwks"},
		{http.MethodPost, "/.well-known/openid-configuration"},
	} {
		resp := wireDo(t, tc.method, g.URL+tc.path, "", "", nil)
		if resp.Status != http.StatusNotFound {
			t.Errorf("%s %.60s = %d, want 404\n%s", tc.method, tc.path, resp.Status, resp.Body)
			continue
		}
		var body struct {
			Error     string `json:"error"`
			RequestID string `json:"request_id"`
		}
		json.Unmarshal(resp.Body, &body)
		if body.Error == "" || body.RequestID == "" {
			t.Errorf("%s %.60s: 404 body %q is not a JSON error with a request_id", tc.method, tc.path, resp.Body)
		}
	}
	if resp := wireDo(t, http.MethodPost, g.URL+"/.well-known/oauth-authorization-server", "", "", nil); resp.Status >= 500 {
		t.Errorf("POST to the metadata = %d, want a 4xx", resp.Status)
	}
}

// TestCORS: browser-based MCP clients call metadata, JWKS, token,
// registration and revocation directly, so those answer any origin,
// errors included (a browser hides a response without the header, and the
// client could not read the OAuth error). Credentials are never allowed:
// the endpoints use no cookies. Introspection is for servers and has no
// CORS, nor have the HTML pages.
func TestCORS(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	origin := http.Header{"Origin": {"https://app.example"}}
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		method, path, contentType, body string
		cors                            bool
	}{
		{http.MethodGet, "/.well-known/oauth-authorization-server", "", "", true},
		{http.MethodGet, "/oauth/jwks", "", "", true},
		{http.MethodPost, "/oauth/token", form, "grant_type=refresh_token&refresh_token=x&client_id=" + testenv.PublicClient, true},
		{http.MethodPost, "/oauth/register", "application/json", `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","client_name":"x"}`, true},
		{http.MethodPost, "/oauth/revoke", form, "token=x&client_id=" + testenv.PublicClient, true},
		{http.MethodPost, "/oauth/introspect", form, "token=x", false},
		{http.MethodGet, "/oauth/authorize?client_id=" + testenv.PublicClient, "", "", false},
	} {
		resp := wireDo(t, tc.method, g.URL+tc.path, tc.contentType, tc.body, origin)
		got := resp.Header.Get("Access-Control-Allow-Origin")
		switch {
		case tc.cors && got != "*":
			t.Errorf("%s %s (%d): Access-Control-Allow-Origin = %q, want *", tc.method, tc.path, resp.Status, got)
		case !tc.cors && got != "":
			t.Errorf("%s %s: Access-Control-Allow-Origin = %q, want none", tc.method, tc.path, got)
		}
		if c := resp.Header.Get("Access-Control-Allow-Credentials"); c != "" {
			t.Errorf("%s %s: Access-Control-Allow-Credentials = %q, want none", tc.method, tc.path, c)
		}
	}
}

// TestCORSPreflight: a browser asks before a POST with Authorization or a
// JSON body (Fetch standard, CORS preflight); the answer must allow both.
func TestCORSPreflight(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	preflight := http.Header{
		"Origin":                         {"https://app.example"},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"authorization, content-type"},
	}
	for _, path := range []string{"/oauth/token", "/oauth/register", "/oauth/revoke", "/oauth/jwks", "/.well-known/oauth-authorization-server"} {
		resp := wireDo(t, http.MethodOptions, g.URL+path, "", "", preflight)
		if resp.Status != http.StatusNoContent {
			t.Errorf("OPTIONS %s = %d, want 204", path, resp.Status)
			continue
		}
		h := resp.Header
		methods := strings.ToLower(h.Get("Access-Control-Allow-Methods"))
		allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(methods, "post") ||
			!strings.Contains(allowed, "authorization") || !strings.Contains(allowed, "content-type") {
			t.Errorf("OPTIONS %s: preflight headers %v do not allow POST with Authorization and Content-Type", path, h)
		}
	}
	resp := wireDo(t, http.MethodOptions, g.URL+"/oauth/introspect", "", "", preflight)
	if resp.Status == http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("OPTIONS /oauth/introspect = %d %v, want no CORS", resp.Status, resp.Header)
	}
}

// TestTokenErrorBodies pins the token endpoint's error responses (RFC 6749
// §5.2, SPEC AS-10): the code, a fixed description, no-store, and the
// request ID, which equals the X-Request-Id header and is in the log.
func TestTokenErrorBodies(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	const form = "application/x-www-form-urlencoded"
	basic := func(id, secret string) http.Header {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		return http.Header{"Authorization": r.Header["Authorization"]}
	}
	seen := map[string]bool{}
	for _, tc := range []struct {
		name, contentType, body string
		header                  http.Header
	}{
		{"unsupported_grant_type", form, "grant_type=password&client_id=" + testenv.PublicClient, nil},
		{"invalid_grant", form, "grant_type=authorization_code&code=nope&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&code_verifier=" + strings.Repeat("v", 43) + "&client_id=" + testenv.PublicClient, nil},
		{"invalid_client", form, "grant_type=refresh_token&refresh_token=x", basic(testenv.ConfidentialClient, "wrong")},
		{"invalid_request", "application/json", `{"grant_type":"refresh_token"}`, nil},
	} {
		resp := wireDo(t, http.MethodPost, g.URL+"/oauth/token", tc.contentType, tc.body, tc.header)
		var body struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			t.Fatalf("%s: body is not JSON: %q", tc.name, resp.Body)
		}
		id := resp.Header.Get("X-Request-Id")
		if body.RequestID == "" || body.RequestID != id || seen[id] {
			t.Errorf("%s: request_id %q, X-Request-Id %q: want equal, non-empty and fresh", tc.name, body.RequestID, id)
		}
		seen[id] = true
		if !strings.Contains(g.Logs.String(), id) {
			t.Errorf("%s: request ID %s is not in the log", tc.name, id)
		}
		rec := resp.record("Content-Type", "Cache-Control", "Pragma", "Www-Authenticate", "Access-Control-Allow-Origin")
		matchGolden(t, "token_error_"+tc.name, bytes.ReplaceAll(rec, []byte(id), []byte("REQUEST_ID")))
	}
}
