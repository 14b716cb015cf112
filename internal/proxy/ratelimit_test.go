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

// requireMCPTooMany fails unless r is a 429 JSON-RPC error (code -32008)
// with exactly these Retry-After and RateLimit headers, naming nothing
// internal.
func requireMCPTooMany(t *testing.T, r reply, retryAfter, policy, state string) {
	t.Helper()
	m := requireRPCError(t, r, http.StatusTooManyRequests, -32008)
	for h, want := range map[string]string{"Retry-After": retryAfter, "RateLimit-Policy": policy, "RateLimit": state} {
		if got := r.Header.Get(h); got != want {
			t.Fatalf("%s = %q, want %q", h, got, want)
		}
	}
	if msg := m["error"].(map[string]any)["message"]; msg != "rate limit exceeded" {
		t.Fatalf("429 message %q", msg)
	}
	for _, leak := range []string{"alice", "local:", "127.0.0.1", "mcp_user"} {
		if strings.Contains(r.Body, leak) {
			t.Fatalf("429 body names %q: %s", leak, r.Body)
		}
	}
}

// floodPost sends one MCP POST from a flood worker goroutine, which must
// not stop the test itself.
func floodPost(g *testenv.Gateway, tok, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, g.HTTP.URL+testenv.FilesPath, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := g.Client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// TestMCPRateLimits: SPEC RL-1 on the MCP routes. One user floods a route
// with a few thousand requests from several connections; exactly the
// per-user burst reaches the upstream, every other answer is a 429 with
// exact headers, and another user keeps being served all through the
// flood. Per user and tool, a tool's own burst runs out before the user's
// while another tool still answers. The clock stands still, so nothing
// refills until the test moves it.
func TestMCPRateLimits(t *testing.T) {
	up := newRecorder(t)
	clock := testenv.NewClock(time.Now())
	g := gatewayWith(t, up.URL, testenv.Options{Now: clock.Now, Mutate: func(c *config.Config) {
		c.RateLimits.MCPUser = config.RateLimit{Rate: "10/s", Burst: 300}
		c.RateLimits.MCPUserTool = config.RateLimit{Rate: "5/s", Burst: 10}
	}})
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
	callTool := func(tok, tool string, id int) reply {
		return post(t, g, testenv.FilesPath, tok,
			fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{}}}`, id, tool), nil)
	}

	// Per user and tool: 10 calls of search pass, the 11th is refused
	// (burst 10 at 5/s: a call back in 200 ms, the whole burst in 2 s).
	for i := range 10 {
		if r := callTool(alice, "search", i); r.Status != http.StatusOK {
			t.Fatalf("call %d of search: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := callTool(alice, "search", 11)
	requireMCPTooMany(t, r, "1", `"mcp_user_tool";q=10;w=2`, `"mcp_user_tool";r=0;t=2`)
	if id := r.JSON(t)["id"]; id != float64(11) {
		t.Fatalf("429 answers id %v, want the request's 11", id)
	}
	if r := callTool(alice, "read", 12); r.Status != http.StatusOK {
		t.Fatalf("another tool after search ran out: %d %s", r.Status, r.Body)
	}
	if r := callTool(bob, "search", 13); r.Status != http.StatusOK {
		t.Fatalf("another user's search: %d %s", r.Status, r.Body)
	}
	clock.Advance(200 * time.Millisecond)
	if r := callTool(alice, "search", 14); r.Status != http.StatusOK {
		t.Fatalf("search after the refill interval: %d %s", r.Status, r.Body)
	}

	// The flood. Of alice's 300, 13 requests are spent (the refused 11th
	// search counted against her per-user limit before its tool's refused
	// it) and 200 ms at 10/s gave 2 back: 289 remain. 8 connections send
	// 250 tools/list each.
	const remaining = 300 - 13 + 2
	const workers, each = 8, 250
	before := up.count()
	var passed, refused atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				status, err := floodPost(g, alice, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, w*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				switch status {
				case http.StatusOK:
					passed.Add(1)
				case http.StatusTooManyRequests:
					refused.Add(1)
				default:
					t.Errorf("flood answer %d", status)
					return
				}
			}
		})
	}
	for i := range 20 {
		if r := post(t, g, testenv.FilesPath, bob, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, i), nil); r.Status != http.StatusOK {
			t.Fatalf("bob's call %d during the flood: %d %s", i+1, r.Status, r.Body)
		}
	}
	wg.Wait()
	if passed.Load() != remaining || refused.Load() != workers*each-remaining {
		t.Fatalf("%d passed and %d refused; want exactly the rest of the burst (%d) through", passed.Load(), refused.Load(), remaining)
	}
	// Refused requests never reach the upstream.
	if got := up.count() - before; got != int(passed.Load())+20 {
		t.Fatalf("upstream got %d requests during the flood, want %d", got, passed.Load()+20)
	}
	requireMCPTooMany(t, post(t, g, testenv.FilesPath, alice, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, nil),
		"1", `"mcp_user";q=300;w=30`, `"mcp_user";r=0;t=30`)

	// Audited once per key and limit, never with the token.
	var userEvents int
	for _, e := range g.AuditEvents("rate_limit_exceeded") {
		if e.Details["limit"] == "mcp_user" {
			userEvents++
			if e.Details["endpoint"] != "mcp:files" || e.Details["key"] != "user" || !strings.HasSuffix(e.User, testenv.Alice) {
				t.Fatalf("audit event %+v", e)
			}
		}
	}
	if userEvents != 1 {
		t.Fatalf("%d mcp_user events for one flooding user in one minute, want 1", userEvents)
	}
	if strings.Contains(g.Audit.String(), alice) {
		t.Fatal("an audit record carries the access token")
	}
}
