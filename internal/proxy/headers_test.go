package proxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/proxy"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// spoofMarker is in every value the client forges; no upstream header
// may contain it.
const spoofMarker = "spoofed-by-client"

// spoof adds everything a client could try to pass off as the gateway's
// or a proxy's: its own token, the gateway's cookies, forwarding headers
// and copies of the identity and credential headers, in canonical and
// non-canonical spellings (SPEC PX-8).
func spoof(r *http.Request) {
	spoofProxy(r)
	h := r.Header
	h.Set("X-User", "local:bob-"+spoofMarker)
	h.Set("X-Groups", "admins,"+spoofMarker)
	h.Set("X-Email", "bob-"+spoofMarker+"@example.com")
	h.Set("X-Api-Key", spoofMarker)
	h["x-user"] = []string{"lower-" + spoofMarker} // sent as written; the server canonicalises
	h["X-API-KEY"] = []string{"upper-" + spoofMarker}
}

// spoofProxy adds the gateway's cookies and forged forwarding headers.
func spoofProxy(r *http.Request) {
	h := r.Header
	h.Set("Cookie", "mcpgate_session="+spoofMarker+"; __Host-mcpgate_session="+spoofMarker+"; theme="+spoofMarker)
	h.Add("Cookie", "other="+spoofMarker)
	h.Set("Proxy-Authorization", "Basic "+spoofMarker)
	h.Set("X-Forwarded-For", "6.6.6.6, "+spoofMarker)
	h.Set("X-Forwarded-Host", spoofMarker+".example")
	h.Set("X-Forwarded-Proto", "https-"+spoofMarker)
	h.Set("X-Forwarded-Port", spoofMarker)
	h.Set("X-Forwarded-Prefix", "/"+spoofMarker)
	h.Set("Forwarded", "for=6.6.6.6;host="+spoofMarker)
	h.Set("X-Real-Ip", spoofMarker)
}

// requireNoClientValues fails if any header of got carries the client's
// token or a spoofed value.
func requireNoClientValues(t *testing.T, got recorded, token string) {
	t.Helper()
	for k, vs := range got.Header {
		for _, v := range vs {
			if strings.Contains(v, spoofMarker) || strings.Contains(v, "6.6.6.6") || (token != "" && strings.Contains(v, token)) {
				t.Errorf("%s: upstream received %s: %q", got.Method, k, v)
			}
		}
	}
	for _, k := range []string{"Cookie", "Proxy-Authorization", "Forwarded", "X-Real-Ip", "X-Forwarded-Port", "X-Forwarded-Prefix"} {
		if v, ok := got.Header[k]; ok {
			t.Errorf("%s: upstream received %s: %q", got.Method, k, v)
		}
	}
}

// requireExactly fails unless header key has exactly the one value want.
func requireExactly(t *testing.T, got recorded, key, want string) {
	t.Helper()
	if v := got.Header.Values(key); len(v) != 1 || v[0] != want {
		t.Errorf("%s: upstream %s = %q, want exactly %q", got.Method, key, v, want)
	}
}

// TestHeaderHygiene: on POST, GET and DELETE, nothing the client sends
// to impersonate the gateway or a proxy reaches the upstream; the
// configured static credential and the gateway's identity and forwarding
// headers do, once each (SPEC PX-8).
func TestHeaderHygiene(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.Upstreams[0].Credentials = config.Credentials{Type: "static", Header: "X-Api-Key", Value: "s3cret"}
		c.Upstreams[0].IdentityHeaders = config.IdentityHeaders{Subject: "X-User", Groups: "X-Groups", Email: "X-Email"}
		// Tokens carry only the groups policy names (oauth tokenGroups).
		c.Upstreams[0].Tools = []config.ToolRule{{Match: "staff_only", Groups: []string{"staff"}}}
	})
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	pub, _ := url.Parse(g.URL)

	init := post(t, g, testenv.FilesPath, tok, initializeBody, spoof)
	if init.Status != http.StatusOK {
		t.Fatalf("initialize: %d %s", init.Status, init.Body)
	}
	sid := init.Header.Get("Mcp-Session-Id")
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		if r := call(t, g, method, testenv.FilesPath, tok, "", func(r *http.Request) {
			spoof(r)
			r.Header.Set("Mcp-Session-Id", sid)
		}); r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", method, r.Status, r.Body)
		}
	}
	reqs := up.requests()
	if len(reqs) != 3 {
		t.Fatalf("upstream received %d requests, want 3", len(reqs))
	}
	for i, got := range reqs {
		if want := []string{"POST", "GET", "DELETE"}[i]; got.Method != want {
			t.Fatalf("request %d is %s, want %s", i, got.Method, want)
		}
		requireNoClientValues(t, got, tok)
		if v, ok := got.Header["Authorization"]; ok {
			t.Errorf("%s: upstream received Authorization %q (credentials go in X-Api-Key)", got.Method, v)
		}
		requireExactly(t, got, "X-Api-Key", "s3cret")
		requireExactly(t, got, "X-User", "local:alice")
		requireExactly(t, got, "X-Groups", "staff")
		requireExactly(t, got, "X-Forwarded-For", "127.0.0.1")
		requireExactly(t, got, "X-Forwarded-Host", pub.Host)
		requireExactly(t, got, "X-Forwarded-Proto", "http")
		if v := got.Header.Values("X-Email"); len(v) > 1 || len(v) == 1 && v[0] != "alice@example.com" {
			t.Errorf("%s: upstream X-Email = %q", got.Method, v)
		}
		if got.Method != http.MethodPost {
			requireExactly(t, got, "Mcp-Session-Id", upstreamSessionID)
		}
	}
}

// TestUnderscoreIdentityHeaderStripped: CGI, WSGI and Rack upstreams
// (and any proxy that normalises like them) read X_User and X-User as
// the same HTTP_X_USER variable. A client-sent X_User must be deleted as
// a copy of the X-User identity header (SPEC PX-8), as nginx drops
// underscored headers by default for exactly this reason.
func TestUnderscoreIdentityHeaderStripped(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.Upstreams[0].Credentials = config.Credentials{Type: "static", Header: "X-Api-Key", Value: "s3cret"}
		c.Upstreams[0].IdentityHeaders = config.IdentityHeaders{Subject: "X-User", Groups: "X-Groups"}
	})
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	r := post(t, g, testenv.FilesPath, tok, pingBody, func(r *http.Request) {
		r.Header["X_user"] = []string{"local:bob-" + spoofMarker}
		r.Header["X_groups"] = []string{"admins-" + spoofMarker}
		r.Header["X_api_key"] = []string{spoofMarker}
	})
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	requireNoClientValues(t, up.last(t), tok)
}

// TestIdentityHeadersCarryVerifiedEmail: the local provider marks its
// users' emails verified, so the email identity header carries Alice's
// (SPEC PX-8, config IdentityHeaders.Email).
func TestIdentityHeadersCarryVerifiedEmail(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.Upstreams[0].IdentityHeaders = config.IdentityHeaders{Subject: "X-User", Email: "X-Email"}
	})
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	if r := post(t, g, testenv.FilesPath, tok, pingBody, nil); r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	requireExactly(t, up.last(t), "X-Email", "alice@example.com")
}

// TestTrustedProxyForwardedFor: behind a trusted proxy the resolved
// client address, and only it, is forwarded; the chain the client wrote
// is not.
func TestTrustedProxyForwardedFor(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	r := post(t, g, testenv.FilesPath, tok, pingBody, func(r *http.Request) {
		r.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.7")
	})
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	requireExactly(t, up.last(t), "X-Forwarded-For", "203.0.113.7")
}

// TestUpstreamResponseHygiene: the upstream's cookies, challenges and raw
// session ID never reach the client.
func TestUpstreamResponseHygiene(t *testing.T) {
	t.Parallel()
	up := newRecorderFunc(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Add("Set-Cookie", "upstream_session=leak; Path=/")
		w.Header().Add("Set-Cookie", "mcpgate_session=overwrite; Path=/")
		w.Header().Set("WWW-Authenticate", `Bearer realm="upstream"`)
		w.Header().Set("Mcp-Session-Id", upstreamSessionID)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer(body))
	})
	g := gateway(t, up.URL, nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	r := post(t, g, testenv.FilesPath, tok, initializeBody, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if v := r.Header.Values("Set-Cookie"); len(v) != 0 {
		t.Errorf("client received Set-Cookie %q", v)
	}
	if v := r.Header.Values("WWW-Authenticate"); len(v) != 0 {
		t.Errorf("client received the upstream's WWW-Authenticate %q", v)
	}
	if sid := r.Header.Get("Mcp-Session-Id"); sid == "" || strings.Contains(sid, upstreamSessionID) {
		t.Errorf("client received Mcp-Session-Id %q, want a sealed one", sid)
	}
}

// TestIdentityAssertion: with credentials type identity_assertion the
// upstream gets a short-lived JWT signed by mcpgate, of its own typ, for
// that upstream, naming the user (SPEC PX-8); the client's token is not
// sent, and the assertion is never accepted by mcpgate itself.
func TestIdentityAssertion(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	upstreamURL := up.URL + "/mcp"
	g := gateway(t, upstreamURL, func(c *config.Config) {
		c.Upstreams[0].Credentials = config.Credentials{Type: "identity_assertion", Header: "Authorization"}
		c.Upstreams[0].Tools = []config.ToolRule{{Match: "staff_only", Groups: []string{"staff"}}}
	})
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		body := ""
		if method == http.MethodPost {
			body = pingBody
		}
		if r := call(t, g, method, testenv.FilesPath, tok, body, spoofProxy); r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", method, r.Status, r.Body)
		}
	}
	var jwt string
	for _, got := range up.requests() {
		requireNoClientValues(t, got, tok)
		auth := got.Header.Values("Authorization")
		if len(auth) != 1 || !strings.HasPrefix(auth[0], "Bearer ") {
			t.Fatalf("%s: upstream Authorization %q, want one Bearer assertion", got.Method, auth)
		}
		jwt = strings.TrimPrefix(auth[0], "Bearer ")
	}

	hdr := testenv.JWTHeader(t, jwt)
	if hdr["typ"] != proxy.TypeIdentityAssertion || hdr["kid"] == nil {
		t.Errorf("assertion header %v: want typ %s and a kid", hdr, proxy.TypeIdentityAssertion)
	}
	claims := requireSignedByGateway(t, g, jwt)
	if claims["aud"] != upstreamURL || claims["sub"] != "local:alice" || claims["iss"] != g.URL {
		t.Errorf("assertion aud %v sub %v iss %v; want %s, local:alice, %s", claims["aud"], claims["sub"], claims["iss"], upstreamURL, g.URL)
	}
	if claims["client_id"] != testenv.PublicClient || !slices.Equal(anyStrings(claims["groups"]), []string{"staff"}) {
		t.Errorf("assertion client_id %v groups %v", claims["client_id"], claims["groups"])
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if exp-iat != proxy.AssertionTTL.Seconds() || claims["jti"] == nil {
		t.Errorf("assertion iat %v exp %v jti %v: want a %v lifetime and a jti", iat, exp, claims["jti"], proxy.AssertionTTL)
	}
	if time.Unix(int64(exp), 0).Before(time.Now()) {
		t.Errorf("assertion already expired at %v", exp)
	}

	// Replayed at the gateway by a malicious upstream: refused.
	n := up.count()
	r := post(t, g, testenv.FilesPath, jwt, pingBody, nil)
	requireChallenge(t, r, filesChallenge(g, "invalid_token"))
	if _, err := g.VerifyAccess(jwt, upstreamURL); err == nil {
		t.Error("the verifier accepts an identity assertion for the upstream's own URL")
	}
	if up.count() != n {
		t.Fatal("a request with an identity assertion as bearer token was forwarded")
	}
}

// requireSignedByGateway verifies jwt with the gateway's published JWKS
// and returns its claims.
func requireSignedByGateway(t *testing.T, g *testenv.Gateway, jwt string) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, g.URL+"/oauth/jwks", nil)
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("JWKS: %v\n%s", err, raw)
	}
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA, jose.ES384})
	if err != nil {
		t.Fatalf("assertion is not a JWS: %v", err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("assertion kid %q is not in the gateway's JWKS", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("assertion signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
