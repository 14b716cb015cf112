package oauth_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/redistest"
)

// tokenFrom posts form to /oauth/token from client address addr (the
// gateway trusts X-Forwarded-For from its loopback peer), authenticating
// with HTTP Basic when secret is set.
func tokenFrom(g *testenv.Gateway, addr string, form url.Values, clientID, secret string) testenv.Reply {
	if secret == "" && clientID != "" {
		form.Set("client_id", clientID)
	}
	return g.Call("/oauth/token", "application/x-www-form-urlencoded", form.Encode(), func(r *http.Request) {
		r.Header.Set("X-Forwarded-For", addr)
		if secret != "" {
			r.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
		}
	})
}

// requireTooMany checks a 429 from a JSON endpoint exactly: the headers
// for limit name with the given policy and state, and a body that is the
// fixed OAuth error and nothing else (no limiter, key, address or store
// detail for an attacker to learn from).
func requireTooMany(t *testing.T, r testenv.Reply, retryAfter, policy, state string) {
	t.Helper()
	testenv.RequireOAuthError(t, r, http.StatusTooManyRequests, "too_many_requests")
	for h, want := range map[string]string{"Retry-After": retryAfter, "RateLimit-Policy": policy, "RateLimit": state, "Cache-Control": "no-store"} {
		if got := r.Header.Get(h); got != want {
			t.Fatalf("%s = %q, want %q", h, got, want)
		}
	}
	keys := make([]string, 0, len(r.JSON))
	for k := range r.JSON {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"error", "error_description", "request_id"}) {
		t.Fatalf("429 body members %v, want error, error_description, request_id: %s", keys, r.Raw)
	}
	if d := r.Get("error_description"); d != "Too many requests; wait as long as Retry-After says and try again." {
		t.Fatalf("429 description %q", d)
	}
}

// TestTokenFloodFromOneAddress: SPEC RL-1 acceptance. One address floods
// /oauth/token with a few thousand requests from several connections at
// once; past the burst every answer is a 429 with exact Retry-After and
// RateLimit headers, while a well-behaved client on another address keeps
// refreshing its tokens. The clock stands still, so nothing refills and
// the header values are exact. Every refusal is counted, one is audited.
func TestTokenFloodFromOneAddress(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	g := behindProxy(t, clock)
	files := g.Resource(testenv.FilesPath)
	f, r := g.Tokens(g.NewBrowser(), testenv.ConfidentialClient, files, testenv.Alice)
	refresh := r.Get("refresh_token")

	const attackers, each = 8, 400 // 3,200 requests
	const attacker, good = "203.0.113.66", "198.51.100.20"
	var refused, passed atomic.Int64
	var wg sync.WaitGroup
	for range attackers {
		wg.Go(func() {
			for range each {
				r := tokenFrom(g, attacker, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"guess"}}, "attacker", "")
				switch r.Status {
				case http.StatusTooManyRequests:
					refused.Add(1)
				case http.StatusUnauthorized: // unknown client: within the burst
					passed.Add(1)
				default:
					t.Errorf("flood answer %d %s", r.Status, r.Raw)
					return
				}
			}
		})
	}
	// The well-behaved client refreshes all through the flood.
	for i := range 20 {
		r := tokenFrom(g, good, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, f.Client, f.Secret)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh %d from the other address during the flood: %d %s", i+1, r.Status, r.Raw)
		}
		refresh = r.Get("refresh_token")
	}
	wg.Wait()
	if passed.Load() != 100 || refused.Load() != attackers*each-100 {
		t.Fatalf("%d passed and %d refused; want exactly the burst of 100 through", passed.Load(), refused.Load())
	}
	// token_ip defaults: burst 100, 10/s, so the window is 10 s; one
	// request comes back after 100 ms, the whole burst after 10 s.
	r = tokenFrom(g, attacker, url.Values{"grant_type": {"refresh_token"}}, "attacker", "")
	requireTooMany(t, r, "1", `"token_ip";q=100;w=10`, `"token_ip";r=0;t=10`)

	if n := g.Metric(t, `mcpgate_rate_limited_total{limit="token_ip"}`); n != float64(refused.Load()+1) {
		t.Fatalf("mcpgate_rate_limited_total{limit=token_ip} = %v, want %d", n, refused.Load()+1)
	}
	events := g.AuditEvents("rate_limit_exceeded")
	if len(events) != 1 {
		t.Fatalf("%d rate_limit_exceeded events for one flooding address in one minute, want 1", len(events))
	}
	e := events[0]
	if e.IP != attacker || e.Details["endpoint"] != "token" || e.Details["limit"] != "token_ip" || e.Details["key"] != "ip" {
		t.Fatalf("audit event %+v", e)
	}

	// 100 ms later one request passes, and the next is refused again.
	clock.Advance(100 * time.Millisecond)
	if r := tokenFrom(g, attacker, url.Values{"grant_type": {"refresh_token"}}, "attacker", ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("after the refill interval: %d %s", r.Status, r.Raw)
	}
	requireTooMany(t, tokenFrom(g, attacker, url.Values{}, "attacker", ""), "1", `"token_ip";q=100;w=10`, `"token_ip";r=0;t=10`)
}

// TestRateLimitMemoryBoundedUnderAddressFlood: requests from more distinct
// addresses than rate_limits.max_keys leave the limiter at most max_keys
// keys (mcpgate_rate_limit_keys), and a flooding address that keeps
// sending stays limited throughout.
func TestRateLimitMemoryBoundedUnderAddressFlood(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	g := testenv.New(t, testenv.Options{Driver: "memory", Now: clock.Now, Mutate: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.RateLimits.MaxKeys = 1000
	}})
	const flooder = "203.0.113.66"
	for range 100 {
		tokenFrom(g, flooder, url.Values{}, "x", "")
	}
	for i := range 3000 {
		addr := fmt.Sprintf("2001:db8:%x:%x::1", i/256, i%256) // 3,000 distinct /64s
		tokenFrom(g, addr, url.Values{}, "x", "")
		if i%100 == 0 {
			if r := tokenFrom(g, flooder, url.Values{}, "x", ""); r.Status != http.StatusTooManyRequests {
				t.Fatalf("after %d fresh addresses the flooding address got %d", i, r.Status)
			}
		}
	}
	if n := g.Metric(t, "mcpgate_rate_limit_keys"); n > 1000 || n < 500 {
		t.Fatalf("mcpgate_rate_limit_keys = %v after 3,000 addresses, want at most max_keys (1000)", n)
	}
}

// TestTokenRateLimitPerClient: past token_client's burst a client is
// refused from any address. Only authenticated requests count, so a
// request naming the confidential client with a wrong secret spends
// nothing of its quota.
func TestTokenRateLimitPerClient(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory", Mutate: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.RateLimits.TokenClient = config.RateLimit{Rate: "1/h", Burst: 3}
	}})
	bad := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}
	for i := range 10 {
		r := tokenFrom(g, fmt.Sprintf("198.51.100.%d", i+1), bad, testenv.ConfidentialClient, "wrong-secret")
		testenv.RequireOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
	}
	for i := range 3 {
		r := tokenFrom(g, fmt.Sprintf("192.0.2.%d", i+1), bad, testenv.ConfidentialClient, testenv.ConfidentialSecret)
		testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	}
	r := tokenFrom(g, "192.0.2.200", bad, testenv.ConfidentialClient, testenv.ConfidentialSecret)
	requireTooMany(t, r, "3600", `"token_client";q=3;w=10800`, `"token_client";r=0;t=10800`)
	e := g.RequireAudit(t, "rate_limit_exceeded", "limit", "token_client", 40)
	if e.Client != testenv.ConfidentialClient || e.Details["key"] != "client" {
		t.Fatalf("audit event %+v", e)
	}
	// Another client is untouched.
	r = tokenFrom(g, "192.0.2.200", bad, testenv.PublicClient, "")
	testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
}

// TestPublicClientQuotaIsPerAddress: the attack is an address that knows
// a public client's ID (any public or CIMD client: the ID is no secret)
// and spends that client's token quota so its real users are refused.
// A public client is counted per client and address, so the attacker
// only exhausts its own bucket; a user of the same client elsewhere is
// still served.
func TestPublicClientQuotaIsPerAddress(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory", Mutate: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.RateLimits.TokenClient = config.RateLimit{Rate: "1/h", Burst: 3}
	}})
	bad := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}
	const attacker = "198.51.100.66"
	for range 3 {
		r := tokenFrom(g, attacker, bad, testenv.PublicClient, "")
		testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	}
	r := tokenFrom(g, attacker, bad, testenv.PublicClient, "")
	requireTooMany(t, r, "3600", `"token_client";q=3;w=10800`, `"token_client";r=0;t=10800`)
	e := g.RequireAudit(t, "rate_limit_exceeded", "limit", "token_client", 40)
	if e.Client != testenv.PublicClient || e.IP != attacker || e.Details["key"] != "client_ip" {
		t.Fatalf("audit event %+v", e)
	}
	for i := range 3 {
		r := tokenFrom(g, fmt.Sprintf("192.0.2.%d", i+1), bad, testenv.PublicClient, "")
		testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	}
}

// TestInstancesShareRateLimits: SPEC RL-1 acceptance. Two gateways share
// one Redis (and nothing else): an address and a client over their
// limits on one instance are refused by the other as well.
func TestInstancesShareRateLimits(t *testing.T) {
	redisURL, prefix := redistest.URL(t), redistest.Prefix(t)
	mutate := func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.Redis = config.Redis{URL: redisURL, KeyPrefix: prefix}
		c.RateLimits.TokenIP = config.RateLimit{Rate: "1/h", Burst: 4}
		c.RateLimits.TokenClient = config.RateLimit{Rate: "1/h", Burst: 6}
	}
	a := testenv.New(t, testenv.Options{Driver: "memory", Mutate: mutate})
	b := testenv.New(t, testenv.Options{Driver: "memory", Mutate: mutate})
	for _, g := range []*testenv.Gateway{a, b} {
		for range 2 {
			if r := tokenFrom(g, "203.0.113.7", url.Values{}, "x", ""); r.Status == http.StatusTooManyRequests {
				t.Fatalf("refused within the shared burst: %s", r.Raw)
			}
		}
	}
	for name, g := range map[string]*testenv.Gateway{"A": a, "B": b} {
		r := tokenFrom(g, "203.0.113.7", url.Values{}, "x", "")
		if r.Status != http.StatusTooManyRequests || r.Header.Get("RateLimit-Policy") != `"token_ip";q=4;w=14400` {
			t.Fatalf("instance %s let the address past the shared limit: %d %v", name, r.Status, r.Header)
		}
	}

	bad := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}
	for i := range 6 {
		g := []*testenv.Gateway{a, b}[i%2]
		r := tokenFrom(g, fmt.Sprintf("198.51.100.%d", i+1), bad, testenv.ConfidentialClient, testenv.ConfidentialSecret)
		testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	}
	for _, g := range []*testenv.Gateway{a, b} {
		r := tokenFrom(g, "198.51.100.99", bad, testenv.ConfidentialClient, testenv.ConfidentialSecret)
		requireTooMany(t, r, "3600", `"token_client";q=6;w=21600`, `"token_client";r=0;t=21600`)
	}
	if n := a.Metric(t, "mcpgate_rate_limit_backend_errors_total"); n != 0 {
		t.Fatalf("%v Redis errors; the limits were not shared through Redis", n)
	}
}

// TestBrowserEndpointsRateLimitedPerAddress: login and callback have
// their own per-address limits (SPEC RL-1). Past the burst the address
// gets the 429 error page, never a redirect, with the headers of the
// endpoint's limit; another address is untouched.
func TestBrowserEndpointsRateLimitedPerAddress(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory", Mutate: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.RateLimits.LoginIP = config.RateLimit{Rate: "1/m", Burst: 3}
		c.RateLimits.CallbackIP = config.RateLimit{Rate: "2/m", Burst: 2}
	}})
	for _, tc := range []struct {
		limit, path  string
		burst        int
		policy, wait string
	}{
		{"login_ip", "/oauth/login?req=nope", 3, `"login_ip";q=3;w=180`, "60"},
		{"callback_ip", "/oauth/callback/local?state=nope", 2, `"callback_ip";q=2;w=60`, "30"},
	} {
		t.Run(tc.limit, func(t *testing.T) {
			b := browserFrom(g, "203.0.113.80")
			for i := range tc.burst {
				if resp := b.Get(tc.path); resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("request %d within the burst: %d", i+1, resp.StatusCode)
				}
			}
			resp := b.Get(tc.path)
			testenv.RequireErrorPage(t, resp, http.StatusTooManyRequests)
			if resp.Header.Get("RateLimit-Policy") != tc.policy || resp.Header.Get("Retry-After") != tc.wait {
				t.Fatalf("headers %v, want RateLimit-Policy %s and Retry-After %s", resp.Header, tc.policy, tc.wait)
			}
			if strings.Contains(resp.Body, tc.limit) || strings.Contains(resp.Body, "203.0.113.80") {
				t.Fatal("the 429 page names the limit or the address")
			}
			g.RequireAudit(t, "rate_limit_exceeded", "limit", tc.limit, 40)
			if resp := browserFrom(g, "203.0.113.81").Get(tc.path); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("another address was limited too: %d", resp.StatusCode)
			}
		})
	}
}

// TestRateLimitsWithRedisDown: with Redis unreachable the gateway neither
// stops limiting (fail open) nor stops serving (fail closed): each
// instance limits on its own, counts the failures, and /readyz says Redis
// is degraded while staying ready.
func TestRateLimitsWithRedisDown(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory", Mutate: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.Redis = config.Redis{URL: "redis://127.0.0.1:1/0", KeyPrefix: "mcpgate-test-down:"}
		c.RateLimits.TokenIP = config.RateLimit{Rate: "1/h", Burst: 2}
	}})
	for i := range 2 {
		if r := tokenFrom(g, "203.0.113.9", url.Values{}, "x", ""); r.Status == http.StatusTooManyRequests {
			t.Fatalf("request %d within the burst refused with Redis down", i+1)
		}
	}
	r := tokenFrom(g, "203.0.113.9", url.Values{}, "x", "")
	requireTooMany(t, r, "3600", `"token_ip";q=2;w=7200`, `"token_ip";r=0;t=7200`)
	if n := g.Metric(t, "mcpgate_rate_limit_backend_errors_total"); n < 1 {
		t.Fatal("the Redis failure was not counted")
	}
	resp, err := http.Get(g.HTTP.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body.String(), `"redis":"degraded"`) {
		t.Fatalf("/readyz with Redis down: %d %s; want 200 and redis degraded", resp.StatusCode, body.String())
	}
	if !strings.Contains(g.Logs.String(), "redis rate limiter failed") {
		t.Fatal("the Redis failure was not logged")
	}
}
