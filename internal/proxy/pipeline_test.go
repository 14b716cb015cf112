package proxy_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// filesChallenge is the exact 401 challenge of the files route (RFC 6750
// §3, RFC 9728 §5.1): errCode "" for a request without a token.
func filesChallenge(g *testenv.Gateway, errCode string) string {
	c := "Bearer "
	if errCode != "" {
		c += `error="` + errCode + `", `
	}
	return c + `resource_metadata="` + g.URL + `/.well-known/oauth-protected-resource/mcp/files", scope="files:read"`
}

// requireChallenge fails unless r is a 401 JSON-RPC error with exactly
// the challenge want.
func requireChallenge(t *testing.T, r reply, want string) {
	t.Helper()
	requireRPCError(t, r, http.StatusUnauthorized, -32001)
	if got := r.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != want {
		t.Fatalf("WWW-Authenticate %q, want exactly %q", got, want)
	}
}

// TestChallenges: every method without a valid bearer token gets a 401
// naming the resource metadata and the scope; no error code when no token
// was sent (RFC 6750 §3.1), invalid_token when one was (SPEC PX-2). The
// upstream sees none of these requests.
func TestChallenges(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, nil)
	// A token for the admin resource: valid, but not for files.
	adminTok := accessToken(t, g, testenv.Bob, testenv.AdminPath, "admin:all")
	// A JWT with a broken signature is just an invalid token.
	tampered := adminTok[:len(adminTok)-4] + "AAAA"
	cases := []struct {
		name, auth, want string
	}{
		{"no token", "", filesChallenge(g, "")},
		{"basic scheme", "Basic YWxpY2U6cGFzcw==", filesChallenge(g, "")},
		{"garbage", "Bearer not-a-jwt", filesChallenge(g, "invalid_token")},
		{"tampered signature", "Bearer " + tampered, filesChallenge(g, "invalid_token")},
		{"other resource's token", "Bearer " + adminTok, filesChallenge(g, "invalid_token")},
		{"lower-case scheme, other resource", "bearer " + adminTok, filesChallenge(g, "invalid_token")},
	}
	for _, c := range cases {
		for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
			body := ""
			if method == http.MethodPost {
				body = pingBody
			}
			r := call(t, g, method, testenv.FilesPath, "", body, func(r *http.Request) {
				if c.auth != "" {
					r.Header.Set("Authorization", c.auth)
				}
			})
			t.Run(c.name+"/"+method, func(t *testing.T) { requireChallenge(t, r, c.want) })
		}
	}
	if n := up.count(); n != 0 {
		t.Fatalf("the upstream received %d unauthenticated requests", n)
	}
	// The admin token is good where it belongs (the refusal above was
	// about its audience, not the token).
	if r := post(t, g, testenv.AdminPath, adminTok, pingBody, nil); r.Status != http.StatusOK {
		t.Fatalf("admin token at the admin resource: %d %s", r.Status, r.Body)
	}
}

// TestTokenOutsideHeaderRefused: a token in the query string is refused
// with 400 even alongside a valid header (SPEC PX-2: URLs end up in logs),
// and so are two Authorization headers; nothing is forwarded.
func TestTokenOutsideHeaderRefused(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	wantChallenge := `Bearer error="invalid_request", resource_metadata="` + g.URL +
		`/.well-known/oauth-protected-resource/mcp/files", scope="files:read"`
	cases := map[string]reply{
		"query and header": post(t, g, testenv.FilesPath+"?access_token="+tok, tok, pingBody, nil),
		"query only":       post(t, g, testenv.FilesPath+"?access_token="+tok, "", pingBody, nil),
		"query on GET":     call(t, g, http.MethodGet, testenv.FilesPath+"?x=1&access_token="+tok, tok, "", nil),
		"two headers": post(t, g, testenv.FilesPath, tok, pingBody, func(r *http.Request) {
			r.Header.Add("Authorization", "Bearer "+tok)
		}),
		"space in token": post(t, g, testenv.FilesPath, "", pingBody, func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+tok+" extra")
		}),
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			requireRPCError(t, r, http.StatusBadRequest, -32001)
			if got := r.Header.Get("WWW-Authenticate"); got != wantChallenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, wantChallenge)
			}
		})
	}
	if n := up.count(); n != 0 {
		t.Fatalf("the upstream received %d requests", n)
	}
}

// TestExpiredTokenRefused: a token is refused once expired, also after
// a first use put it in the verification cache (SPEC PX-2, PX-3).
func TestExpiredTokenRefused(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Now())
	up := newRecorder(t)
	g := gatewayWith(t, up.URL, testenv.Options{Now: clock.Now})
	cached := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	unused := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	if r := post(t, g, testenv.FilesPath, cached, pingBody, nil); r.Status != http.StatusOK {
		t.Fatalf("fresh token: %d %s", r.Status, r.Body)
	}
	clock.Advance(config.DefaultAccessTokenTTL + 10*time.Minute)
	for name, tok := range map[string]string{"cached": cached, "never used": unused} {
		r := post(t, g, testenv.FilesPath, tok, pingBody, nil)
		t.Run(name, func(t *testing.T) { requireChallenge(t, r, filesChallenge(g, "invalid_token")) })
	}
	if n := up.count(); n != 1 {
		t.Fatalf("the upstream received %d requests, want 1 (before expiry)", n)
	}
}

// TestRevokedCachedTokenRefused: revocation takes effect on the next
// request even for a token the proxy verified and cached (SPEC AS-5a,
// PX-3: the cache is revocation-aware).
func TestRevokedCachedTokenRefused(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	other := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	for range 2 {
		if r := post(t, g, testenv.FilesPath, tok, pingBody, nil); r.Status != http.StatusOK {
			t.Fatalf("before revocation: %d %s", r.Status, r.Body)
		}
	}
	if r := g.Revoke(tok, testenv.PublicClient, ""); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	files := g.Resource(testenv.FilesPath)
	if took, err := g.WaitRevoked(tok, files, 5*time.Second); err != nil {
		t.Fatalf("after %v: %v", took, err)
	}
	r := post(t, g, testenv.FilesPath, tok, pingBody, nil)
	requireChallenge(t, r, filesChallenge(g, "invalid_token"))
	if n := up.count(); n != 2 {
		t.Fatalf("the upstream received %d requests, want 2 (before revocation)", n)
	}
	// Another grant of the same user is untouched.
	if r := post(t, g, testenv.FilesPath, other, pingBody, nil); r.Status != http.StatusOK {
		t.Fatalf("other grant: %d %s", r.Status, r.Body)
	}
}

// TestForwardedBytesAreInspectedBytes: the upstream receives the body
// byte for byte as the client sent it and the gateway inspected it (SPEC
// PX-6), at the configured URL whatever path or query the client used.
func TestForwardedBytesAreInspectedBytes(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL+"/upstream/mcp", nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	bodies := []string{
		" \r\n{ \"params\" : {\"name\":\"echo\" ,\"arguments\":{\"z\":1,\"a\":[1, 2.50, 1e3],\"s\":\"\\u0041\\n\"}},\"id\":  \"x\",\"method\":\"tools/call\",   \"jsonrpc\":\"2.0\"}\n\t ",
		`[{"jsonrpc":"2.0","id":1,"method":"ping"} , {"jsonrpc":"2.0","method":"notifications/initialized"}]`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"héllo ☃ \ud83d\ude00"}}}`,
	}
	for i, body := range bodies {
		r := post(t, g, testenv.FilesPath+"?path=/etc&x=1", tok, body, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("body %d: %d %s", i, r.Status, r.Body)
		}
		got := up.last(t)
		if string(got.Body) != body {
			t.Errorf("body %d: upstream received\n%q\nwant\n%q", i, got.Body, body)
		}
		if got.Path != "/upstream/mcp" || got.Query != "" {
			t.Errorf("body %d: upstream path %q query %q, want /upstream/mcp and none", i, got.Path, got.Query)
		}
		if cl := got.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
			t.Errorf("body %d: upstream Content-Length %q, want %d", i, cl, len(body))
		}
	}
}

// TestSmugglingRefused: bodies an upstream could read differently from
// the inspector are refused with 400 and a JSON-RPC error before
// anything is forwarded (SPEC PX-6).
func TestSmugglingRefused(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.Upstreams[0].Tools = []config.ToolRule{{Match: "reset_counter", Deny: true}}
	})
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	cases := []struct {
		name, body string
		code       int
	}{
		{"method and Method", `{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"reset_counter"}}`, -32600},
		{"METHOD", `{"jsonrpc":"2.0","id":1,"METHOD":"tools/call","method":"ping","params":{"name":"reset_counter"}}`, -32600},
		{"duplicate method", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"reset_counter"}}`, -32600},
		{"escaped duplicate method", `{"jsonrpc":"2.0","id":1,"method":"ping","m\u0065thod":"tools/call","params":{"name":"reset_counter"}}`, -32600},
		{"duplicate name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"reset_counter"}}`, -32600},
		{"Name in params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","Name":"reset_counter"}}`, -32600},
		{"duplicate params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"params":{"name":"reset_counter"}}`, -32600},
		{"duplicate id", `{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}`, -32600},
		{"Jsonrpc", `{"jsonrpc":"2.0","Jsonrpc":"1.0","id":1,"method":"ping"}`, -32600},
		{"duplicate in a batch element", `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","name":"reset_counter"}}]`, -32600},
		{"trailing message", `{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"reset_counter"}}`, -32700},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"reset_counter\xff\"}}", -32700},
		{"not JSON", `jsonrpc=2.0&method=tools/call`, -32700},
		{"empty batch", `[]`, -32600},
	}
	for _, c := range cases {
		r := post(t, g, testenv.FilesPath, tok, c.body, nil)
		t.Run(c.name, func(t *testing.T) {
			m := requireRPCError(t, r, http.StatusBadRequest, c.code)
			if m["id"] != nil {
				t.Errorf("id %v, want null for a body that could not be trusted", m["id"])
			}
		})
	}
	if n := up.count(); n != 0 {
		t.Fatalf("the upstream received %d smuggling attempts", n)
	}
}

// TestMcpHeadersCheckedAgainstBody: Mcp-Method and Mcp-Name must agree
// with the body (SPEC PX-5: 400, -32020); agreeing headers and unknown
// Mcp-Param-* headers are forwarded.
func TestMcpHeadersCheckedAgainstBody(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`
	bad := map[string]func(*http.Request){
		"method mismatch": func(r *http.Request) { r.Header.Set("Mcp-Method", "tools/list") },
		"name mismatch": func(r *http.Request) {
			r.Header.Set("Mcp-Method", "tools/call")
			r.Header.Set("Mcp-Name", "reset_counter")
		},
		"two Mcp-Method": func(r *http.Request) {
			r.Header.Add("Mcp-Method", "tools/call")
			r.Header.Add("Mcp-Method", "tools/call")
		},
		"Mcp-Name on ping": func(r *http.Request) { r.Header.Set("Mcp-Name", "echo") },
	}
	for name, edit := range bad {
		body := call
		if name == "Mcp-Name on ping" {
			body = pingBody
		}
		r := post(t, g, testenv.FilesPath, tok, body, edit)
		t.Run(name, func(t *testing.T) { requireRPCError(t, r, http.StatusBadRequest, -32020) })
	}
	batch := `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`
	r := post(t, g, testenv.FilesPath, tok, batch, func(r *http.Request) { r.Header.Set("Mcp-Method", "ping") })
	requireRPCError(t, r, http.StatusBadRequest, -32020)
	if n := up.count(); n != 0 {
		t.Fatalf("the upstream received %d mismatched requests", n)
	}

	r = post(t, g, testenv.FilesPath, tok, call, func(r *http.Request) {
		r.Header.Set("Mcp-Method", "tools/call")
		r.Header.Set("Mcp-Name", "echo")
		r.Header.Set("Mcp-Param-Region", "eu")
	})
	if r.Status != http.StatusOK {
		t.Fatalf("matching headers: %d %s", r.Status, r.Body)
	}
	h := up.last(t).Header
	if h.Get("Mcp-Method") != "tools/call" || h.Get("Mcp-Name") != "echo" || h.Get("Mcp-Param-Region") != "eu" {
		t.Fatalf("upstream headers Mcp-Method %q Mcp-Name %q Mcp-Param-Region %q", h.Get("Mcp-Method"), h.Get("Mcp-Name"), h.Get("Mcp-Param-Region"))
	}
}

// TestBodyLimit: a body over max_body_bytes gets 413 whether or not it
// declares its length, and is never forwarded (SPEC PX-4).
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) { c.Upstreams[0].MaxBodyBytes = 1024 })
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + strings.Repeat("a", 2000) + `"}}}`
	r := post(t, g, testenv.FilesPath, tok, big, nil)
	requireRPCError(t, r, http.StatusRequestEntityTooLarge, -32005)
	r = post(t, g, testenv.FilesPath, tok, "", func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(big)) // chunked: no Content-Length
		r.ContentLength = -1
	})
	requireRPCError(t, r, http.StatusRequestEntityTooLarge, -32005)
	if n := up.count(); n != 0 {
		t.Fatalf("the upstream received %d oversized bodies", n)
	}
	exact := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"`
	exact += strings.Repeat("a", 1024-len(exact)-len(`"}}}`)) + `"}}}`
	if r := post(t, g, testenv.FilesPath, tok, exact, nil); r.Status != http.StatusOK {
		t.Fatalf("a body of exactly the limit: %d %s", r.Status, r.Body)
	}
}

// TestOriginAndHost: the DNS-rebinding defence (SPEC PX-10). A present
// Origin must be allowed; the Host must be public_url's.
func TestOriginAndHost(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	refused := map[string]func(*http.Request){
		"foreign origin":  func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") },
		"null origin":     func(r *http.Request) { r.Header.Set("Origin", "null") },
		"other port":      func(r *http.Request) { r.Header.Set("Origin", "http://127.0.0.1:1") },
		"https of public": func(r *http.Request) { r.Header.Set("Origin", strings.Replace(g.URL, "http:", "https:", 1)) },
		"two origins": func(r *http.Request) {
			r.Header.Add("Origin", g.URL)
			r.Header.Add("Origin", "https://evil.example")
		},
		"foreign host": func(r *http.Request) { r.Host = "evil.example" },
		"localhost host": func(r *http.Request) {
			r.Host = strings.Replace(g.HTTP.Listener.Addr().String(), "127.0.0.1", "localhost", 1)
		},
	}
	for name, edit := range refused {
		for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
			body := ""
			if method == http.MethodPost {
				body = pingBody
			}
			r := call(t, g, method, testenv.FilesPath, tok, body, edit)
			t.Run(name+"/"+method, func(t *testing.T) { requireRPCError(t, r, http.StatusForbidden, -32003) })
		}
	}
	// Refused before the token is even looked at: no challenge.
	r := post(t, g, testenv.FilesPath, "", pingBody, refused["foreign origin"])
	requireRPCError(t, r, http.StatusForbidden, -32003)
	if r.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("origin refusal carries a challenge: %q", r.Header.Get("WWW-Authenticate"))
	}
	if n := up.count(); n != 0 {
		t.Fatalf("the upstream received %d refused requests", n)
	}
	r = post(t, g, testenv.FilesPath, tok, pingBody, func(r *http.Request) { r.Header.Set("Origin", g.URL) })
	if r.Status != http.StatusOK {
		t.Fatalf("Origin equal to public_url: %d %s", r.Status, r.Body)
	}
}

// TestAllowedOrigins: a configured allowed_origins entry is accepted,
// others still refused.
func TestAllowedOrigins(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.AllowedOrigins = []string{"http://localhost:5173", c.PublicURL}
	})
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	for _, origin := range []string{"http://localhost:5173", g.URL} {
		r := post(t, g, testenv.FilesPath, tok, pingBody, func(r *http.Request) { r.Header.Set("Origin", origin) })
		if r.Status != http.StatusOK {
			t.Errorf("Origin %s: %d %s", origin, r.Status, r.Body)
		}
	}
	for _, origin := range []string{"http://localhost:5174", "https://localhost:5173", "https://evil.example"} {
		r := post(t, g, testenv.FilesPath, tok, pingBody, func(r *http.Request) { r.Header.Set("Origin", origin) })
		requireRPCError(t, r, http.StatusForbidden, -32003)
	}
}

// TestMethodNotAllowed: only POST, GET and DELETE reach the pipeline.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	for _, method := range []string{http.MethodPut, http.MethodPatch, "PROPFIND"} {
		r := call(t, g, method, testenv.FilesPath, tok, pingBody, nil)
		requireRPCError(t, r, http.StatusMethodNotAllowed, -32600)
		if got := r.Header.Get("Allow"); got != "GET, POST, DELETE" {
			t.Errorf("%s: Allow %q, want \"GET, POST, DELETE\"", method, got)
		}
	}
	if n := up.count(); n != 0 {
		t.Fatalf("the upstream received %d requests", n)
	}
}
