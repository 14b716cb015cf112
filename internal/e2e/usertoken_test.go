package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/fakeoidc"
	"github.com/mcpgate/mcpgate/internal/testenv/pgtest"
)

// The user_token credential (SPEC ID-5, PX-12) at the gateway level: the
// upstream receives the user's own access token at the OIDC provider, the
// gateway refreshes it when it expires, and the provider rotates refresh
// tokens, so a second redemption of the same refresh token is
// invalid_grant and would end the user's grant. Replicas must therefore
// refresh once for all of them, not once each.

// bearerUpstream is an MCP upstream that answers tools/call and records
// the bearer token of every request; a bearer in reject is answered 401,
// as an upstream answers a token its provider revoked.
type bearerUpstream struct {
	mu     sync.Mutex
	seen   []string
	reject map[string]bool
}

func (u *bearerUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	u.mu.Lock()
	u.seen = append(u.seen, tok)
	rejected := u.reject[tok]
	u.mu.Unlock()
	if rejected {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&msg) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if len(msg.ID) == 0 { // a notification
		w.WriteHeader(http.StatusAccepted)
		return
	}
	var result any = map[string]any{}
	if msg.Method == "tools/call" {
		result = map[string]any{"content": []any{map[string]any{"type": "text", "text": "called"}}}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": result})
}

// mark returns how many requests the upstream has seen.
func (u *bearerUpstream) mark() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

// since returns the bearers of the requests after mark.
func (u *bearerUpstream) since(mark int) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen[mark:]...)
}

func (u *bearerUpstream) refuse(tok string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reject[tok] = true
}

// userTokenSetup is one or more replicas of a gateway whose files upstream
// gets user_token credentials of the "corp" OIDC provider.
type userTokenSetup struct {
	op       *fakeoidc.OP
	up       *bearerUpstream
	clock    *testenv.Clock
	replicas []*testenv.Gateway
}

// newUserTokenSetup starts the provider, the upstream and n replicas on
// one store (o's), sharing public_url, sealing keys and one fake clock, as
// replicas behind one load balancer would.
func newUserTokenSetup(t *testing.T, n int, o testenv.Options) *userTokenSetup {
	s := &userTokenSetup{op: fakeoidc.NewHTTP(t), up: &bearerUpstream{reject: map[string]bool{}},
		clock: testenv.NewClock(time.Now())}
	upstream := httptest.NewServer(s.up)
	t.Cleanup(upstream.Close)
	o.Now = s.clock.Now
	for i := range n {
		o.Mutate = func(c *config.Config) {
			c.IdentityProviders = append(c.IdentityProviders, config.IdentityProvider{ID: "corp", Type: "oidc",
				Issuer: s.op.Issuer, ClientID: fakeoidc.ClientID, ClientSecret: fakeoidc.ClientSecret})
			c.Upstreams[0].URL = upstream.URL
			c.Upstreams[0].Credentials = config.Credentials{Type: "user_token", Provider: "corp"}
			// The mcpgate access token outlives the clock's jump, so only
			// the upstream token expires.
			c.Signing.AccessTokenTTL = config.Duration(4 * time.Hour)
			if i > 0 {
				c.PublicURL = s.replicas[0].Config.PublicURL
				c.Secrets = s.replicas[0].Config.Secrets
			}
		}
		s.replicas = append(s.replicas, testenv.New(t, o))
	}
	return s
}

// send sends r to replica g's own listener, with the Host of the shared
// public_url (as a load balancer forwards it).
func send(t *testing.T, g *testenv.Gateway, method, path string, body string, h http.Header) (*http.Response, string) {
	req, err := http.NewRequest(method, g.HTTP.URL+path, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return nil, ""
	}
	pub, _ := url.Parse(g.URL)
	req.Host = pub.Host
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return nil, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(b)
}

// callTool sends one tools/call with the mcpgate access token through g.
func callTool(t *testing.T, g *testenv.Gateway, accessToken string, id int) (*http.Response, string) {
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, id)
	return send(t, g, http.MethodPost, testenv.FilesPath, body, http.Header{
		"Authorization": {"Bearer " + accessToken}, "Content-Type": {"application/json"},
		"Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {"2025-06-18"}})
}

// requireCalled fails unless the tools/call answered with the upstream's
// result.
func requireCalled(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp == nil {
		return // already reported
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"called"`) {
		t.Errorf("tools/call: %d %s (WWW-Authenticate %q)", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
	}
}

// refreshGrant redeems the client's mcpgate refresh token at replica g.
func refreshGrant(t *testing.T, g *testenv.Gateway, refreshToken string) (int, map[string]any) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {testenv.PublicClient}}
	resp, body := send(t, g, http.MethodPost, "/oauth/token", form.Encode(), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if resp == nil {
		t.FailNow()
	}
	var m map[string]any
	json.Unmarshal([]byte(body), &m)
	return resp.StatusCode, m
}

// login runs the browser flow through the provider on the first replica
// and returns the client's mcpgate access and refresh tokens.
func (s *userTokenSetup) login(t *testing.T) (access, refresh string) {
	t.Helper()
	g := s.replicas[0]
	p := testenv.NewPKCE()
	params := g.AuthParams(testenv.PublicClient, redirectURL, g.Resource(testenv.FilesPath), p)
	params.Set("scope", "files:read offline_access")
	code := newWebBrowser(t, g, s.op.Client().Transport).login(params, "corp", "", "")
	status, body := g.ExchangeCode(testenv.PublicClient, "", code, redirectURL, p)
	access, _ = body["access_token"].(string)
	refresh, _ = body["refresh_token"].(string)
	if status != http.StatusOK || access == "" || refresh == "" {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	return access, refresh
}

// TestUserTokenRefreshOnceAcrossInstances is the acceptance test of the
// upstream-token refresh (SPEC ID-5, PX-12) at the gateway level, on two
// replicas sharing one PostgreSQL store and, as a baseline, on one. The
// user logs in through the first replica; once the upstream token is
// about to expire, 20 tools/calls leave together, spread over the
// replicas, and the provider must see exactly one refresh: a second
// (another replica redeeming the rotated-out refresh token) is
// invalid_grant, which the proxy takes for the end of the user's grant
// and answers by revoking the client's. Without the store lease (only the
// in-process lock) this test fails every time: several refresh grants,
// invalid_grant answers and 401s to the client.
func TestUserTokenRefreshOnceAcrossInstances(t *testing.T) {
	t.Run("two instances on PostgreSQL", func(t *testing.T) {
		dsn := pgtest.DSN(t, "mcpgate_ute2e_")
		runUserTokenRefresh(t, newUserTokenSetup(t, 2, testenv.Options{Driver: "postgres", DSN: dsn}))
	})
	t.Run("one instance", func(t *testing.T) {
		runUserTokenRefresh(t, newUserTokenSetup(t, 1, testenv.Options{}))
	})
}

func runUserTokenRefresh(t *testing.T, s *userTokenSetup) {
	const n = 20 // simultaneous calls, spread evenly over the replicas
	access, refresh := s.login(t)
	issued := s.op.IssuedAccessTokens()
	if len(issued) != 1 {
		t.Fatalf("the login issued %d upstream access tokens, want 1", len(issued))
	}
	tok1 := issued[0]

	m := s.up.mark()
	resp, body := callTool(t, s.replicas[0], access, 1)
	requireCalled(t, resp, body)
	if got := s.up.since(m); len(got) != 1 || got[0] != tok1 {
		t.Fatalf("first call: the upstream saw bearers %q, want [upstream token #1]", got)
	}

	t.Run("expired token refreshed once for every request", func(t *testing.T) {
		// Token #1 (expires_in 3600 by the real clock) is within the
		// refresh margin an hour later on the gateways' clock; token #2
		// lives two hours, so it is fresh at once and must not be
		// refreshed again.
		s.op.Set(func(op *fakeoidc.OP) { op.ExpiresIn = 7200 })
		s.clock.Advance(time.Hour)

		mark := s.up.mark()
		type result struct {
			status int
			body   string
			auth   string
		}
		results := make([]result, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			g := s.replicas[i%len(s.replicas)]
			wg.Go(func() {
				<-start // the barrier: every request leaves together
				resp, body := callTool(t, g, access, 100+i)
				if resp != nil {
					results[i] = result{resp.StatusCode, body, resp.Header.Get("WWW-Authenticate")}
				}
			})
		}
		close(start)
		wg.Wait()

		var refreshes, invalid, requests int
		s.op.Set(func(op *fakeoidc.OP) {
			refreshes, invalid, requests = op.Refreshes, op.InvalidGrants, op.RefreshRequests
		})
		if requests != 1 || refreshes != 1 || invalid != 0 {
			t.Errorf("the provider got %d refresh_token grants (%d answered, %d invalid_grant); want exactly 1, 1, 0",
				requests, refreshes, invalid)
		}
		for i, r := range results {
			if r.status == http.StatusUnauthorized {
				t.Errorf("request %d (replica %d): the client saw 401 (%s)", i, i%len(s.replicas), r.auth)
			} else if r.status != http.StatusOK || !strings.Contains(r.body, `"called"`) {
				t.Errorf("request %d (replica %d): %d %s", i, i%len(s.replicas), r.status, r.body)
			}
		}
		issued := s.op.IssuedAccessTokens()
		if len(issued) != 2 {
			t.Fatalf("the provider issued %d upstream access tokens, want 2", len(issued))
		}
		tok2 := issued[1]
		seen := s.up.since(mark)
		if len(seen) != n {
			t.Errorf("the upstream got %d requests after the barrier, want %d (one each, no retries)", len(seen), n)
		}
		for i, b := range seen {
			if b != tok2 {
				t.Errorf("upstream request %d after the barrier carried %s, want upstream token #2", i, which(b, tok1, tok2))
			}
		}
	})

	t.Run("revoked upstream token and refused refresh end the grant", func(t *testing.T) {
		issued := s.op.IssuedAccessTokens()
		tok2 := issued[len(issued)-1]
		s.up.refuse(tok2)        // the upstream no longer accepts token #2
		s.op.KillRefreshTokens() // and the provider no longer vouches for the user
		var before int
		s.op.Set(func(op *fakeoidc.OP) { before = op.InvalidGrants })

		last := s.replicas[len(s.replicas)-1] // the replica that did not log the user in, when there are two
		mark := s.up.mark()
		resp, body := callTool(t, last, access, 500)
		if resp == nil {
			t.FailNow()
		}
		challenge := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer ") ||
			!strings.Contains(challenge, `error="invalid_token"`) || !strings.Contains(challenge, "resource_metadata=") {
			t.Fatalf("after a refused refresh: %d, WWW-Authenticate %q, body %s; want 401 with an invalid_token challenge",
				resp.StatusCode, challenge, body)
		}
		if strings.Contains(body, "invalid_grant") || strings.Contains(body, ".go") {
			t.Errorf("the answer leaks the provider's refusal or internals: %s", body)
		}
		if got := s.up.since(mark); len(got) != 1 || got[0] != tok2 {
			t.Errorf("the upstream saw %q; want one request with token #2 (no retry without a new token)", got)
		}
		var after int
		s.op.Set(func(op *fakeoidc.OP) { after = op.InvalidGrants })
		if after-before != 1 {
			t.Errorf("the provider refused %d refreshes, want 1 (one forced refresh, no loop)", after-before)
		}
		// The family is revoked: the client's refresh token is dead on
		// every replica (the store holds the verdict), so it cannot mint
		// an access token for a grant the upstream cannot serve.
		for i, g := range s.replicas {
			status, reply := refreshGrant(t, g, refresh)
			if status != http.StatusBadRequest || reply["error"] != "invalid_grant" {
				t.Errorf("replica %d: the revoked family's refresh token answered %d %v, want 400 invalid_grant", i, status, reply)
			}
		}
		// And the access token in hand is refused where the revocation
		// happened, without reaching the upstream.
		mark = s.up.mark()
		if resp, body := callTool(t, last, access, 501); resp != nil && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the access token of the revoked family still works: %d %s", resp.StatusCode, body)
		}
		if got := s.up.since(mark); len(got) != 0 {
			t.Errorf("a call with the revoked family's access token reached the upstream: %q", got)
		}
		s.replicas[len(s.replicas)-1].RequireAudit(t, "token_revoked", "reason", "upstream_grant_gone", 0)
	})
}

// which names a bearer for a failure message without printing tokens.
func which(b, tok1, tok2 string) string {
	switch b {
	case tok1:
		return "upstream token #1"
	case tok2:
		return "upstream token #2"
	case "":
		return "no token"
	}
	return "an unknown token"
}
