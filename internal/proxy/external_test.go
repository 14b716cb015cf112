package proxy_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/zitadel"
)

// oktaAS is an httptest authorization server shaped like an Okta custom
// authorization server: an issuer with a path, RFC 8414 metadata at the
// issuer-suffixed path, RS256 tokens with typ "JWT", a string aud, scopes
// in an scp array and the client in cid.
type oktaAS struct {
	srv        *httptest.Server
	issuer     string
	mu         sync.Mutex
	key        *rsa.PrivateKey
	kid        string
	jwksFetchs atomic.Int32
}

func newOktaAS(t *testing.T) *oktaAS {
	t.Helper()
	as := &oktaAS{}
	as.rotate(t)
	mux := http.NewServeMux()
	as.srv = httptest.NewServer(mux)
	t.Cleanup(as.srv.Close)
	as.issuer = as.srv.URL + "/oauth2/default"
	mux.HandleFunc("GET /oauth2/default/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": as.issuer, "jwks_uri": as.issuer + "/v1/keys"})
	})
	mux.HandleFunc("GET /oauth2/default/v1/keys", func(w http.ResponseWriter, r *http.Request) {
		as.jwksFetchs.Add(1)
		as.mu.Lock()
		defer as.mu.Unlock()
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &as.key.PublicKey, KeyID: as.kid, Algorithm: "RS256", Use: "sig"},
		}})
	})
	return as
}

// rotate replaces the signing key: the old one is no longer published.
func (as *oktaAS) rotate(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	as.mu.Lock()
	as.key, as.kid = k, fmt.Sprintf("k%d", time.Now().UnixNano())
	as.mu.Unlock()
}

func (as *oktaAS) mint(t *testing.T, now time.Time, edit func(map[string]any)) string {
	t.Helper()
	claims := map[string]any{
		"ver": 1, "jti": "AT.1", "iss": as.issuer, "aud": "api://mcp", "sub": "alice@acme.example",
		"cid": "0oa-client", "uid": "00u1", "scp": []string{"mcp.read", "offline_access"},
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if edit != nil {
		edit(claims)
	}
	as.mu.Lock()
	key, kid := as.key, as.kid
	as.mu.Unlock()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestResourceServerOnlyOktaShaped is the resource-server-only mode end to
// end: tokens minted by an external Okta-shaped AS pass the gateway and
// reach the upstream; wrong audience, issuer or scope fail with the right
// challenge; PRM names the external AS; a key rotated at the AS is picked
// up without a restart.
func TestResourceServerOnlyOktaShaped(t *testing.T) {
	as := newOktaAS(t)
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the client's token reached the upstream")
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
	}))
	t.Cleanup(up.Close)
	clk := testenv.NewClock(time.Now())
	g := testenv.New(t, testenv.Options{Now: clk.Now, Mutate: func(c *config.Config) {
		c.Upstreams = append(c.Upstreams, config.Upstream{
			Name: "okta", Path: "/mcp/okta", URL: up.URL,
			ExternalAuth: &config.ExternalAuth{Issuer: as.issuer, Audience: "api://mcp", Scopes: []string{"mcp.read"}, ScopeClaim: "scp"},
		})
	}})
	call := func(tok string) *http.Response { return pingAs(t, g, "/mcp/okta", tok) }
	prm := g.URL + "/.well-known/oauth-protected-resource/mcp/okta"
	want := func(name string, resp *http.Response, status int, challenge string) {
		t.Helper()
		if resp.StatusCode != status || resp.Header.Get("WWW-Authenticate") != challenge {
			t.Errorf("%s: %d %q, want %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), status, challenge)
		}
	}

	want("valid", call(as.mint(t, clk.Now(), nil)), http.StatusOK, "")
	if hits.Load() != 1 {
		t.Fatalf("upstream hits = %d, want 1", hits.Load())
	}
	invalid := `Bearer error="invalid_token", resource_metadata="` + prm + `", scope="mcp.read"`
	want("no token", call(""), http.StatusUnauthorized, `Bearer resource_metadata="`+prm+`", scope="mcp.read"`)
	want("wrong audience", call(as.mint(t, clk.Now(), func(c map[string]any) { c["aud"] = "api://other" })), http.StatusUnauthorized, invalid)
	want("wrong issuer", call(as.mint(t, clk.Now(), func(c map[string]any) { c["iss"] = as.srv.URL + "/oauth2/other" })), http.StatusUnauthorized, invalid)
	want("expired", call(as.mint(t, clk.Now().Add(-3*time.Hour), nil)), http.StatusUnauthorized, invalid)
	want("missing scope", call(as.mint(t, clk.Now(), func(c map[string]any) { c["scp"] = []string{"other"} })),
		http.StatusForbidden, `Bearer error="insufficient_scope", resource_metadata="`+prm+`", scope="mcp.read"`)
	// A mcpgate token for another resource is not an external token.
	_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, testenv.Alice)
	want("mcpgate token", call(rep.Get("access_token")), http.StatusUnauthorized, invalid)
	if hits.Load() != 1 {
		t.Fatalf("refused requests reached the upstream: hits = %d", hits.Load())
	}

	resp, err := g.Client().Get(prm)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc.Resource != g.URL+"/mcp/okta" || len(doc.AuthorizationServers) != 1 || doc.AuthorizationServers[0] != as.issuer {
		t.Errorf("PRM = %+v, want the external issuer %s", doc, as.issuer)
	}

	// Rotation at the AS: a token with the new kid passes once the
	// refetch throttle allows a fetch, with no restart.
	as.rotate(t)
	fetches := as.jwksFetchs.Load()
	clk.Advance(31 * time.Second)
	want("after rotation", call(as.mint(t, clk.Now(), nil)), http.StatusOK, "")
	if got := as.jwksFetchs.Load(); got != fetches+1 {
		t.Errorf("JWKS fetches after rotation = %d, want %d (exactly one refetch)", got, fetches+1)
	}
}

// TestResourceServerOnlyZitadel runs resource-server-only routes against
// the real zitadel example OP (SPEC §10): its opaque access token passes
// through introspection and reaches the upstream; a route for another
// audience refuses it with invalid_token, a route needing a scope the
// token lacks answers insufficient_scope, and a JWT signed by the OP but
// checked against another issuer is refused.
func TestResourceServerOnlyZitadel(t *testing.T) {
	z := zitadel.Login(t)
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
	}))
	t.Cleanup(up.Close)
	intro := func() *config.Introspection {
		return &config.Introspection{ClientID: zitadel.ClientID, ClientSecret: zitadel.ClientSecret, ImpliedAudience: true}
	}
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		add := func(name string, ea *config.ExternalAuth) {
			c.Upstreams = append(c.Upstreams, config.Upstream{Name: name, Path: "/mcp/" + name, URL: up.URL, ExternalAuth: ea})
		}
		add("zitadel", &config.ExternalAuth{Issuer: z.Issuer, Audience: zitadel.ClientID, Scopes: []string{"email"}, Introspection: intro()})
		add("other-aud", &config.ExternalAuth{Issuer: z.Issuer, Audience: "mcp-other", Scopes: []string{"email"}, Introspection: intro()})
		add("more-scope", &config.ExternalAuth{Issuer: z.Issuer, Audience: zitadel.ClientID, Scopes: []string{"email", "mcp:admin"}, Introspection: intro()})
		add("jwt", &config.ExternalAuth{Issuer: z.Issuer, Audience: zitadel.ClientID})
		add("other-iss", &config.ExternalAuth{Issuer: "http://localhost:1/", Audience: zitadel.ClientID, JWKSURL: z.JWKS})
	}})
	call := func(path, tok string) *http.Response { return pingAs(t, g, path, tok) }
	prm := func(path string) string { return g.URL + "/.well-known/oauth-protected-resource" + path }
	cases := []struct {
		name, path, tok string
		status          int
		challenge       string
	}{
		{"opaque token via introspection", "/mcp/zitadel", z.Access, http.StatusOK, ""},
		{"another audience", "/mcp/other-aud", z.Access, http.StatusUnauthorized,
			`Bearer error="invalid_token", resource_metadata="` + prm("/mcp/other-aud") + `", scope="email"`},
		{"scope not granted", "/mcp/more-scope", z.Access, http.StatusForbidden,
			`Bearer error="insufficient_scope", resource_metadata="` + prm("/mcp/more-scope") + `", scope="email mcp:admin"`},
		{"OP-signed JWT via discovered JWKS", "/mcp/jwt", z.ID, http.StatusOK, ""},
		{"OP-signed JWT, another issuer", "/mcp/other-iss", z.ID, http.StatusUnauthorized,
			`Bearer error="invalid_token", resource_metadata="` + prm("/mcp/other-iss") + `"`},
	}
	for _, c := range cases {
		resp := call(c.path, c.tok)
		if resp.StatusCode != c.status || resp.Header.Get("WWW-Authenticate") != c.challenge {
			t.Errorf("%s: %d %q, want %d %q", c.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), c.status, c.challenge)
		}
	}
	if hits.Load() != 2 {
		t.Errorf("upstream hits = %d, want 2 (only the accepted requests)", hits.Load())
	}
}

// pingAs posts a JSON-RPC ping to path with tok ("" for none) and returns
// the response, its body drained.
func pingAs(t *testing.T, g *testenv.Gateway, path, tok string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
