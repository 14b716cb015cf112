package oauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// dcrRequest is the registration an MCP client sends (RFC 7591 §3.1).
func dcrRequest(authMethod string, redirectURIs ...string) map[string]any {
	return map[string]any{
		"redirect_uris":              redirectURIs,
		"token_endpoint_auth_method": authMethod,
		"client_name":                "x",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
	}
}

func register(t *testing.T, g *testenv.Gateway, req any) (wireResponse, map[string]any) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	resp := wireDo(t, http.MethodPost, g.URL+"/oauth/register", "application/json", string(body), nil)
	var out map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatalf("registration answer is not JSON (%d): %q", resp.Status, resp.Body)
	}
	return resp, out
}

// mustRegister registers req and requires 201.
func mustRegister(t *testing.T, g *testenv.Gateway, req any) map[string]any {
	t.Helper()
	resp, out := register(t, g, req)
	if resp.Status != http.StatusCreated {
		t.Fatalf("register: %d %v, want 201", resp.Status, out)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("registration response Cache-Control = %q, want no-store (it may carry a secret)", cc)
	}
	return out
}

// regConsentPage starts a flow for params and returns the consent page the
// browser is shown (without answering it).
func regConsentPage(t *testing.T, b *testenv.Browser, params url.Values) testenv.Response {
	t.Helper()
	id := b.StartFlow(params)
	page := b.Get("/oauth/consent?req=" + url.QueryEscape(id))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("consent page: %d\n%s", page.StatusCode, page.Body)
	}
	return page
}

// TestRegisterPublicClient: RFC 7591 §3.2.1, 201 with the client ID and
// the metadata as registered, no secret for auth method none; the client
// then completes a flow, and the consent page tells the user it registered
// itself (SPEC AS-3, AS-7).
func TestRegisterPublicClient(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	g := testenv.New(t, testenv.Options{Now: clock.Now})
	out := mustRegister(t, g, dcrRequest("none", "http://127.0.0.1/cb"))
	id, _ := out["client_id"].(string)
	if id == "" || out["client_id_issued_at"] != float64(clock.Now().Unix()) {
		t.Fatalf("client_id %q, client_id_issued_at %v: want an ID issued at %d", id, out["client_id_issued_at"], clock.Now().Unix())
	}
	if got := stringList(out["redirect_uris"]); !slices.Equal(got, []string{"http://127.0.0.1/cb"}) || out["token_endpoint_auth_method"] != "none" {
		t.Errorf("redirect_uris %v, token_endpoint_auth_method %v not echoed", got, out["token_endpoint_auth_method"])
	}
	if out["client_name"] != "x" || !slices.Equal(stringList(out["grant_types"]), []string{"authorization_code", "refresh_token"}) {
		t.Errorf("client_name %v, grant_types %v not echoed", out["client_name"], out["grant_types"])
	}
	for _, k := range []string{"client_secret", "client_secret_expires_at"} {
		if v, ok := out[k]; ok {
			t.Errorf("public client got %s = %v", k, v)
		}
	}
	events := g.AuditEvents("client_registered")
	if len(events) != 1 || events[0].Client != id || events[0].Details["source"] != "dcr" {
		t.Errorf("client_registered events = %+v, want one for %s with source dcr", events, id)
	}

	b := g.NewBrowser()
	p := testenv.NewPKCE()
	params := g.AuthParams(id, "http://127.0.0.1/cb", g.Resource(testenv.FilesPath), p)
	page := regConsentPage(t, b, params)
	if !strings.Contains(page.Body, "dynamic registration") || !strings.Contains(page.Body, "registered itself") {
		t.Errorf("consent page does not say the client registered itself:\n%s", page.Body)
	}
	loc := b.Authorize(params, testenv.Alice)
	status, tok := g.ExchangeCode(id, "", loc.Query().Get("code"), "http://127.0.0.1/cb", p)
	if status != http.StatusOK || tok["refresh_token"] == nil {
		t.Fatalf("code exchange for the registered client: %d %v", status, tok)
	}
	if cid := testenv.JWTPayload(t, tok["access_token"].(string))["client_id"]; cid != id {
		t.Errorf("access token client_id = %v, want %s", cid, id)
	}
}

// TestRegisterConfidentialClient: a client_secret_basic registration gets
// a secret that never expires (client_secret_expires_at 0, RFC 7591
// §3.2.1), shown once: it works at the token endpoint with HTTP Basic, is
// stored only hashed and never written to the audit log.
func TestRegisterConfidentialClient(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	const redirect = "https://app.example/cb"
	out := mustRegister(t, g, dcrRequest("client_secret_basic", redirect))
	id, _ := out["client_id"].(string)
	secret, _ := out["client_secret"].(string)
	if len(secret) < 32 || out["client_secret_expires_at"] != float64(0) {
		t.Fatalf("client_secret %q, client_secret_expires_at %v: want a long secret that never expires", secret, out["client_secret_expires_at"])
	}
	if out["token_endpoint_auth_method"] != "client_secret_basic" {
		t.Errorf("token_endpoint_auth_method = %v", out["token_endpoint_auth_method"])
	}
	stored, err := g.Store().GetClient(context.Background(), id)
	if err != nil || bytes.Contains(stored.SecretHash, []byte(secret)) || len(stored.SecretHash) == 0 {
		t.Errorf("stored client %v: want the secret stored hashed only", err)
	}
	if strings.Contains(g.Audit.String(), secret) || strings.Contains(g.Logs.String(), secret) {
		t.Error("the client secret was written to the audit or operational log")
	}

	p := testenv.NewPKCE()
	code := g.NewBrowser().Authorize(g.AuthParams(id, redirect, g.Resource(testenv.FilesPath), p), testenv.Alice).Query().Get("code")
	if status, body := g.ExchangeCode(id, "wrong-"+secret, code, redirect, p); status != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d %v, want 401", status, body)
	}
	code = g.NewBrowser().Authorize(g.AuthParams(id, redirect, g.Resource(testenv.FilesPath), p), testenv.Alice).Query().Get("code")
	if status, body := g.ExchangeCode(id, secret, code, redirect, p); status != http.StatusOK || body["access_token"] == nil {
		t.Errorf("registered secret over HTTP Basic: %d %v, want 200", status, body)
	}
}

// TestRegisterRefusesRedirectURIs: RFC 7591 §3.2.2 invalid_redirect_uri
// for what OAuth 2.1 and RFC 8252 forbid: plain http off loopback (the
// code would cross the network in clear), fragments (RFC 6749 §3.1.2),
// script and data schemes, userinfo. Nothing is registered.
func TestRegisterRefusesRedirectURIs(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	for _, uri := range []string{
		"http://app.example/cb",
		"http://127.0.0.1/cb#frag",
		"https://app.example/cb#",
		"javascript:alert(1)",
		"data:text/html,hi",
		"https://user:pw@app.example/cb",
		"http://127.0.0.1.evil.example/cb",
	} {
		resp, out := register(t, g, dcrRequest("none", uri))
		if resp.Status != http.StatusBadRequest || out["error"] != "invalid_redirect_uri" {
			t.Errorf("redirect %q: %d %v, want 400 invalid_redirect_uri", uri, resp.Status, out)
		}
	}
	if n := len(g.AuditEvents("client_registered")); n != 0 {
		t.Errorf("%d clients registered, want none", n)
	}
}

// TestRegisterRefusesBadRequests: anything but a JSON object of client
// metadata, at most 16 KiB, is invalid_client_metadata (RFC 7591 §3.2.2,
// SPEC HD-2), and a client may not choose its own ID or secret.
func TestRegisterRefusesBadRequests(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	valid, _ := json.Marshal(dcrRequest("none", "http://127.0.0.1/cb"))
	withField := func(k, v string) string {
		m := dcrRequest("none", "http://127.0.0.1/cb")
		m[k] = v
		b, _ := json.Marshal(m)
		return string(b)
	}
	// Padded with whitespace, still valid JSON: refused for its size alone.
	padded := func(n int) string { return string(valid) + strings.Repeat(" ", n-len(valid)) }
	for _, tc := range []struct{ name, contentType, body string }{
		{"broken JSON", "application/json", `{"redirect_uris":`},
		{"JSON array", "application/json", `[` + string(valid) + `]`},
		{"text/plain", "text/plain", string(valid)},
		{"form", "application/x-www-form-urlencoded", "redirect_uris=http%3A%2F%2F127.0.0.1%2Fcb"},
		{"no content type", "", string(valid)},
		{"over 16 KiB", "application/json", padded(16<<10 + 1)},
		{"client_id chosen", "application/json", withField("client_id", "my-own-id")},
		{"client_secret chosen", "application/json", withField("client_secret", "my-own-secret-0123456789abcdef")},
	} {
		resp := wireDo(t, http.MethodPost, g.URL+"/oauth/register", tc.contentType, tc.body, nil)
		var out struct {
			Error     string `json:"error"`
			RequestID string `json:"request_id"`
		}
		json.Unmarshal(resp.Body, &out)
		if resp.Status != http.StatusBadRequest || out.Error != "invalid_client_metadata" || out.RequestID == "" {
			t.Errorf("%s: %d %s, want 400 invalid_client_metadata with a request_id", tc.name, resp.Status, resp.Body)
		}
	}
	if n := len(g.AuditEvents("client_registered")); n != 0 {
		t.Fatalf("%d clients registered by refused requests", n)
	}
	// The bound is inclusive: exactly 16 KiB registers.
	if resp := wireDo(t, http.MethodPost, g.URL+"/oauth/register", "application/json", padded(16<<10), nil); resp.Status != http.StatusCreated {
		t.Errorf("a 16 KiB registration: %d %s, want 201", resp.Status, resp.Body)
	}
}

// TestRegisterDisabled: registration.dynamic false removes the endpoint
// (SPEC AS-7: DCR can be disabled); nothing is stored.
func TestRegisterDisabled(t *testing.T) {
	off := false
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) { c.Registration.Dynamic = &off }})
	body, _ := json.Marshal(dcrRequest("none", "http://127.0.0.1/cb"))
	resp := wireDo(t, http.MethodPost, g.URL+"/oauth/register", "application/json", string(body), nil)
	if resp.Status != http.StatusNotFound && resp.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST /oauth/register with registration.dynamic false: %d %s, want 404 or 405", resp.Status, resp.Body)
	}
	clients, err := g.Store().ListClients(context.Background())
	if err != nil || len(clients) != 0 {
		t.Errorf("store holds %d clients (%v), want none", len(clients), err)
	}
	// No preflight either: a browser must not be told POST is allowed.
	pre := wireDo(t, http.MethodOptions, g.URL+"/oauth/register", "", "", nil)
	if pre.Status == http.StatusNoContent {
		t.Errorf("OPTIONS /oauth/register with registration off: 204, want no preflight route")
	}
}

// TestRegisteredScopeAllowsStepUp: the scope a client names when it
// registers itself (RFC 7591 §2: scopes it "can use") does not cap what it
// may ask for later. MCP clients register with the scope of their first
// challenge (the TypeScript SDK does, SEP-835) and keep the registration,
// so a cap would refuse every step-up authorization (MCP authorization,
// step-up flow) with invalid_scope. Whoever registers can always register
// again with a wider scope, so the cap protected nothing; what a user may
// receive is still decided by the scope catalogue (SPEC AS-9). A scope
// list set by the operator for a configured client still caps it.
func TestRegisteredScopeAllowsStepUp(t *testing.T) {
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		c.Clients[0].Scopes = []string{"files:read"} // testenv.PublicClient
	}})
	req := dcrRequest("none", loopbackCB)
	req["scope"] = "files:read"
	id := mustRegister(t, g, req)["client_id"].(string)
	p := testenv.NewPKCE()
	params := g.AuthParams(id, loopbackCB, g.Resource(testenv.FilesPath), p)
	params.Set("scope", "files:read files:write")
	if tok := issueToken(t, g, g.NewBrowser(), params, p, testenv.Alice); tok["scope"] != "files:read files:write" {
		t.Errorf("step-up token of the registered client has scope %v, want files:read files:write", tok["scope"])
	}

	params = g.AuthParams(testenv.PublicClient, loopbackCB, g.Resource(testenv.FilesPath), testenv.NewPKCE())
	params.Set("scope", "files:read files:write")
	requireRedirectError(t, g, g.NewBrowser().Get("/oauth/authorize?"+params.Encode()), http.StatusFound, loopbackCB, "invalid_scope", "xyz-state")
}
