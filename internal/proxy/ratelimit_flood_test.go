package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// floodAnswer is what one flood request got back.
type floodAnswer struct {
	status                       int
	retryAfter, policy, limState string
}

// postFrom sends body to the files route with tok, from address addr as
// the trusted proxy (127.0.0.1) reports it in X-Forwarded-For.
func postFrom(g *testenv.Gateway, addr, tok, body string) (floodAnswer, error) {
	req, err := http.NewRequest(http.MethodPost, g.HTTP.URL+testenv.FilesPath, strings.NewReader(body))
	if err != nil {
		return floodAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := g.Client().Do(req)
	if err != nil {
		return floodAnswer{}, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return floodAnswer{resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("RateLimit-Policy"), resp.Header.Get("RateLimit")}, err
}

// TestMCPFloodFromOneAddressSparesAnother: SPEC RL-1 under a loopback
// flood. Alice floods the files route from one address with 2,000
// requests over 8 connections; exactly her burst gets through and every
// other answer is 429 with Retry-After, RateLimit-Policy and RateLimit.
// Bob, a well-behaved user on another address, is served all through the
// flood, and the limiter's key count (mcpgate_rate_limit_keys) stays a
// handful: a flood from one user is one key, not one per request.
func TestMCPFloodFromOneAddressSparesAnother(t *testing.T) {
	up := newRecorder(t)
	clock := testenv.NewClock(time.Now())
	g := gatewayWith(t, up.URL, testenv.Options{Now: clock.Now, Mutate: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.RateLimits.MCPUser = config.RateLimit{Rate: "10/s", Burst: 100}
		c.RateLimits.MaxKeys = 1000
	}})
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
	const workers, each = 8, 250
	var passed, refused atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				a, err := postFrom(g, "203.0.113.66", alice, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, w*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				switch {
				case a.status == http.StatusOK:
					passed.Add(1)
				case a.status == http.StatusTooManyRequests && a.retryAfter != "" &&
					a.policy == `"mcp_user";q=100;w=10` && strings.HasPrefix(a.limState, `"mcp_user";r=0;t=`):
					refused.Add(1)
				default:
					t.Errorf("flood answer %+v", a)
					return
				}
			}
		})
	}
	for i := range 50 {
		a, err := postFrom(g, "198.51.100.7", bob, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, i))
		if err != nil || a.status != http.StatusOK {
			t.Fatalf("bob's request %d during the flood: %+v, %v", i+1, a, err)
		}
	}
	wg.Wait()
	if passed.Load() != 100 || refused.Load() != workers*each-100 {
		t.Fatalf("%d passed, %d refused; want exactly the burst (100) through", passed.Load(), refused.Load())
	}
	if n := g.Metric(t, "mcpgate_rate_limit_keys"); n < 1 || n > 10 {
		t.Fatalf("mcpgate_rate_limit_keys = %v after a one-user flood, want a handful", n)
	}
	if n := g.Metric(t, `mcpgate_rate_limited_total{limit="mcp_user"}`); n != float64(workers*each-100) {
		t.Fatalf("mcp_user refusals counted %v, want %d", n, workers*each-100)
	}
}

// batchOfCalls is a JSON-RPC batch calling each tool once.
func batchOfCalls(tools ...string) string {
	parts := make([]string, len(tools))
	for i, tool := range tools {
		parts[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{}}}`, i+1, tool)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// TestMCPBatchCostsEachCall: a JSON-RPC batch of N tools/call costs N of
// the per-user limit. Without that, one request of 100 calls would cost
// what one call does and the limit would mean nothing.
func TestMCPBatchCostsEachCall(t *testing.T) {
	up := newRecorder(t)
	clock := testenv.NewClock(time.Now())
	g := gatewayWith(t, up.URL, testenv.Options{Now: clock.Now, Mutate: func(c *config.Config) {
		c.RateLimits.MCPUser = config.RateLimit{Rate: "1/s", Burst: 10}
		c.RateLimits.MCPUserTool = config.RateLimit{Rate: "10/s", Burst: 100}
	}})
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	tools := make([]string, 10)
	for i := range tools {
		tools[i] = "search"
	}
	if r := post(t, g, testenv.FilesPath, alice, batchOfCalls(tools...), nil); r.Status != http.StatusOK {
		t.Fatalf("a batch of 10 calls within a burst of 10: %d %s", r.Status, r.Body)
	}
	before := up.count()
	r := post(t, g, testenv.FilesPath, alice, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{}}}`, nil)
	requireMCPTooMany(t, r, "1", `"mcp_user";q=10;w=10`, `"mcp_user";r=0;t=10`)
	// A batch larger than the whole burst never reaches the upstream.
	bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
	r = post(t, g, testenv.FilesPath, bob, batchOfCalls(append(tools, "search")...), nil)
	if r.Status != http.StatusTooManyRequests || up.count() != before {
		t.Fatalf("a batch of 11 calls against a burst of 10: %d, upstream got %d", r.Status, up.count()-before)
	}
}

// TestMCPToolNameFloodBounded: a user calling thousands of distinct,
// long tool names (each a fresh user x tool key) leaves the limiter at
// most rate_limits.max_keys keys, and the audit records of refused long
// names quote them bounded, with their SHA-256.
func TestMCPToolNameFloodBounded(t *testing.T) {
	up := newRecorder(t)
	clock := testenv.NewClock(time.Now())
	g := gatewayWith(t, up.URL, testenv.Options{Now: clock.Now, Mutate: func(c *config.Config) {
		c.RateLimits.MCPUser = config.RateLimit{Rate: "10/s", Burst: 5000}
		c.RateLimits.MCPUserTool = config.RateLimit{Rate: "1/h", Burst: 1}
		c.RateLimits.MaxKeys = 1000
	}})
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	pad := strings.Repeat("x", 1000)
	const batches, per = 30, 50
	for b := range batches {
		tools := make([]string, per)
		for i := range tools {
			tools[i] = fmt.Sprintf("t%d_%s", b*per+i, pad)
		}
		if r := post(t, g, testenv.FilesPath, alice, batchOfCalls(tools...), nil); r.Status != http.StatusOK {
			t.Fatalf("batch %d of distinct tools: %d %s", b, r.Status, r.Body)
		}
	}
	if n := g.Metric(t, "mcpgate_rate_limit_keys"); n > 1000 || n < 500 {
		t.Fatalf("mcpgate_rate_limit_keys = %v after %d distinct tools, want at most max_keys (1000)", n, batches*per)
	}
	// The same long tool twice: the second is refused and audited.
	long := "again_" + strings.Repeat("y", 2000)
	post(t, g, testenv.FilesPath, alice, batchOfCalls(long), nil)
	if r := post(t, g, testenv.FilesPath, alice, batchOfCalls(long), nil); r.Status != http.StatusTooManyRequests {
		t.Fatalf("a tool past its burst: %d %s", r.Status, r.Body)
	}
	found := false
	for _, e := range g.AuditEvents("rate_limit_exceeded") {
		tool, _ := e.Details["tool"].(string)
		if !strings.Contains(tool, "again_") {
			continue
		}
		found = true
		if len(tool) > 256+len("…sha256:")+64 || !strings.Contains(tool, "…sha256:") {
			t.Fatalf("audit quotes a %d-byte tool name unbounded: %.80q", len(tool), tool)
		}
	}
	if !found {
		t.Fatal("the refused long tool call was not audited")
	}
}
