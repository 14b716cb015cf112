package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// The header values for a range of states, against the draft's syntax:
// a quoted policy name, q and w on the policy, r and t on the state, and
// every duration rounded up to whole seconds.
func TestSetHeaders(t *testing.T) {
	tests := []struct {
		name                string
		res                 ratelimit.Result
		retry, policy, want string
	}{
		{"allowed", ratelimit.Result{Limit: ratelimit.Limit{Name: "token_ip", Burst: 100, Every: 100 * time.Millisecond},
			Allowed: true, Remaining: 99, ResetAfter: 100 * time.Millisecond},
			"", `"token_ip";q=100;w=10`, `"token_ip";r=99;t=1`},
		{"refused", ratelimit.Result{Limit: ratelimit.Limit{Name: "token_ip", Burst: 100, Every: 100 * time.Millisecond},
			RetryAfter: 100 * time.Millisecond, ResetAfter: 10 * time.Second},
			"1", `"token_ip";q=100;w=10`, `"token_ip";r=0;t=10`},
		{"refused, rounding up", ratelimit.Result{Limit: ratelimit.Limit{Name: "register_ip", Burst: 10, Every: 6 * time.Minute},
			RetryAfter: 359*time.Second + time.Microsecond, ResetAfter: time.Hour - time.Second + time.Microsecond},
			"360", `"register_ip";q=10;w=3600`, `"register_ip";r=0;t=3600`},
		{"refused, sub-second", ratelimit.Result{Limit: ratelimit.Limit{Name: "mcp_user", Burst: 200, Every: 50 * time.Millisecond},
			RetryAfter: time.Microsecond, ResetAfter: 10 * time.Second},
			"1", `"mcp_user";q=200;w=10`, `"mcp_user";r=0;t=10`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			ratelimit.SetHeaders(h, tt.res)
			if h.Get("Retry-After") != tt.retry || h.Get("RateLimit-Policy") != tt.policy || h.Get("RateLimit") != tt.want {
				t.Fatalf("got Retry-After %q, RateLimit-Policy %q, RateLimit %q; want %q, %q, %q",
					h.Get("Retry-After"), h.Get("RateLimit-Policy"), h.Get("RateLimit"), tt.retry, tt.policy, tt.want)
			}
		})
	}
}

type recorder struct {
	mu      sync.Mutex
	events  []audit.Event
	limited map[string]int
}

func (r *recorder) record(_ context.Context, e audit.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) RateLimited(limit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.limited == nil {
		r.limited = map[string]int{}
	}
	r.limited[limit]++
}

func newGuard(c *clock.Clock, rec *recorder) *ratelimit.Guard {
	return &ratelimit.Guard{
		Limits: ratelimit.Limits{
			MCPUser:     ratelimit.Limit{Name: "mcp_user", Burst: 5, Every: time.Second},
			MCPUserTool: ratelimit.Limit{Name: "mcp_user_tool", Burst: 2, Every: time.Second},
		},
		Limiter: &ratelimit.Memory{Now: c.Now}, Audit: rec.record, Metrics: rec, Now: c.Now,
	}
}

// AllowMCP, as the proxy will call it: per user over every request, per
// user and tool (of one upstream) over each tool call. A refusal leaves
// the headers on the response and is counted and audited (at most once a
// minute per key), with the user and tool but no credential.
func TestGuardAllowMCP(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	rec := &recorder{}
	g := newGuard(c, rec)
	call := func(user string, tools ...string) (bool, http.Header) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/mcp/files", nil)
		r.Header.Set("Authorization", "Bearer secret-token-value")
		return g.AllowMCP(w, r, "files", user, len(tools), tools), w.Header()
	}
	for i := range 2 {
		if ok, _ := call("local:alice", "search"); !ok {
			t.Fatalf("call %d refused", i+1)
		}
	}
	ok, h := call("local:alice", "search")
	if ok || h.Get("RateLimit-Policy") != `"mcp_user_tool";q=2;w=2` || h.Get("Retry-After") != "1" {
		t.Fatalf("third search: allowed=%v headers %v; want refused by mcp_user_tool", ok, h)
	}
	if ok, _ := call("local:alice", "fetch"); !ok {
		t.Fatal("another tool shares search's quota")
	}
	if ok, _ := call("local:bob", "search"); !ok {
		t.Fatal("another user shares alice's quota")
	}
	// The same tool name on another upstream counts apart.
	w := httptest.NewRecorder()
	if !g.AllowMCP(w, httptest.NewRequest(http.MethodPost, "/mcp/other", nil), "other", "local:alice", 1, []string{"search"}) {
		t.Fatal("search on another upstream shares files' quota")
	}
	// alice has used 5 of mcp_user's 5 (the refused request counted
	// against mcp_user: it passed that limit); the next is refused there.
	ok, h = call("local:alice")
	if ok || h.Get("RateLimit-Policy") != `"mcp_user";q=5;w=5` {
		t.Fatalf("sixth request: allowed=%v headers %v; want refused by mcp_user", ok, h)
	}
	call("local:alice")
	if rec.limited["mcp_user"] != 2 || rec.limited["mcp_user_tool"] != 1 {
		t.Fatalf("refusals counted %v", rec.limited)
	}
	if len(rec.events) != 2 {
		t.Fatalf("%d audit events, want one per key and limit: %+v", len(rec.events), rec.events)
	}
	e := rec.events[0]
	if e.Type != audit.RateLimitExceeded || e.User != "local:alice" || e.Details["tool"] != "files/search" ||
		e.Details["key"] != "user_tool" || e.Details["endpoint"] != "mcp:files" || e.Details["limit"] != "mcp_user_tool" {
		t.Fatalf("audit event %+v", e)
	}
	for _, e := range rec.events {
		for _, v := range e.Details {
			if s, ok := v.(string); ok && strings.Contains(s, "secret-token-value") {
				t.Fatal("an audit event carries the bearer token")
			}
		}
	}
	// A minute later the same refusal is audited again.
	c.Advance(time.Minute)
	for range 6 {
		call("local:alice")
	}
	if len(rec.events) != 3 {
		t.Fatalf("%d audit events after a minute, want 3", len(rec.events))
	}
}

// Keys longer than 64 bytes (a CIMD client ID, a tool name from a request
// body) are stored as a fixed-size hash, still distinct per value.
func TestKeysBounded(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	k := ratelimit.ByUserTool("local:alice", long).String()
	if len(k) > 100 {
		t.Fatalf("a 10 kB tool name made a %d-byte key", len(k))
	}
	if k == ratelimit.ByUserTool("local:alice", long+"y").String() {
		t.Fatal("two long tool names share a key")
	}
	if ratelimit.ByUser("a").String() == ratelimit.ByClient("a").String() {
		t.Fatal("a user and a client of the same name share a key")
	}
}

// gone is a Limiter whose store answers only after the request's context
// has ended, as a Failover does when the client hangs up mid-check.
type gone struct{}

func (gone) Allow(ctx context.Context, _ ratelimit.Limit, _ string) (ratelimit.Result, error) {
	<-ctx.Done()
	return ratelimit.Result{}, ctx.Err()
}

// The attack: send a request and hang up at once, so the limit check
// fails on the ended context. That must not let the request through
// uncounted; it is refused, without a 429's headers, metric or audit
// event (nobody is there to read them).
func TestGuardRefusesAbandonedRequest(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	rec := &recorder{}
	g := newGuard(c, rec)
	g.Limiter = &ratelimit.Failover{Primary: gone{}, Fallback: &ratelimit.Memory{Now: c.Now}, Now: c.Now}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/mcp/files", nil).WithContext(ctx)
	if g.AllowMCP(w, r, "files", "local:alice", 1, []string{"search"}) {
		t.Fatal("a request whose context ended passed the limit check uncounted")
	}
	if w.Header().Get("RateLimit-Policy") != "" || len(rec.events) != 0 || len(rec.limited) != 0 {
		t.Fatalf("an abandoned request was answered as a refusal: headers %v, events %v, counted %v", w.Header(), rec.events, rec.limited)
	}
}
