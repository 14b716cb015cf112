package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/clientip"
	"github.com/mcpgate/mcpgate/internal/reqid"
)

// Limits are the gateway's limits (SPEC RL-1): per client address on each
// unauthenticated endpoint, per client on the token endpoint, per user
// and per user and tool on MCP traffic. The composition root builds them
// from config.RateLimits (FromConfig).
type Limits struct {
	AuthorizeIP, LoginIP, CallbackIP, TokenIP, TokenClient, RegisterIP Limit
	MCPUser, MCPUserTool                                               Limit
}

// Metrics counts refusals by limit name (mcpgate_rate_limited_total).
type Metrics interface {
	RateLimited(limit string)
}

// auditEvery: a key refused again and again is audited at most once per
// limit per auditEvery. A flood of a few thousand requests must not become
// a few thousand hash-chained audit records (filling the disk and drowning
// the events that matter); the metric still counts every refusal.
const auditEvery = time.Minute

// Guard applies Limits to HTTP requests: the one place where a refusal
// becomes 429 headers, a metric and an audit event. Each endpoint writes
// the body in its own protocol's error format (OAuth JSON, an HTML page,
// JSON-RPC), since that is what its clients parse.
type Guard struct {
	Limits
	Limiter Limiter
	// Audit records events; the Guard fills in the request's IP, user
	// agent and request ID.
	Audit   func(context.Context, audit.Event)
	Metrics Metrics
	Log     *slog.Logger
	// Now is the clock of the audit gate; default time.Now.
	Now func() time.Time

	// audited gates audit events, per instance: one per key and limit per
	// auditEvery.
	auditOnce sync.Once
	audited   *Memory
}

// auditKeys bounds the audit gate's memory.
const auditKeys = 10_000

// Allow counts the request r under k against l and reports whether it may
// proceed. When it may not, Allow has set Retry-After, RateLimit-Policy
// and RateLimit (SetHeaders), counted the refusal and recorded a
// rate_limit_exceeded event; the caller answers 429 with its own error
// body, and does nothing else. A request whose context has ended before
// the check could be made is refused too, without headers or event. endpoint names the route in the event.
func (g *Guard) Allow(w http.ResponseWriter, r *http.Request, endpoint string, l Limit, k Key) bool {
	res, err := g.Limiter.Allow(r.Context(), l, k.String())
	if err != nil {
		// Failover hides backend failures and Memory has none, so only
		// a request that is already gone (its context ended) gets here.
		// Refuse it: a client that hangs up straight after sending must
		// not get its work done uncounted. Nobody reads the answer, so it
		// is neither counted nor audited as a refusal.
		g.log().DebugContext(r.Context(), "rate limit check abandoned", "limit", l.Name, "err", err)
		return false
	}
	if res.Allowed {
		return true
	}
	SetHeaders(w.Header(), res)
	if g.Metrics != nil {
		g.Metrics.RateLimited(l.Name)
	}
	g.record(r, endpoint, res, k)
	return false
}

// AllowMCP applies the MCP limits to one request of subject on upstream:
// mcp_user once per message in the body that is not a response, and at
// least once (a JSON-RPC batch of N requests or notifications costs N, or
// batching would multiply the per-user limit by the batch size), then
// mcp_user_tool for each tool called (tools: one entry per tools/call).
// The first refusal refuses the whole request; the units already counted
// stay spent, so a client cannot probe its quota for free. The tool key is
// "<upstream>/<tool>", so two upstreams' tools of the same name count
// apart. The proxy calls it after its policy step, so only calls the
// policy allowed are counted, and answers a refusal with 429 and a
// JSON-RPC error.
func (g *Guard) AllowMCP(w http.ResponseWriter, r *http.Request, upstream, subject string, messages int, tools []string) bool {
	endpoint := "mcp:" + upstream
	for range max(1, messages, len(tools)) {
		if !g.Allow(w, r, endpoint, g.MCPUser, ByUser(subject)) {
			return false
		}
	}
	for _, t := range tools {
		if !g.Allow(w, r, endpoint, g.MCPUserTool, ByUserTool(subject, upstream+"/"+t)) {
			return false
		}
	}
	return true
}

// record writes the audit event, at most once per key and limit per
// auditEvery. Details name the limit and the kind of key, never a token or
// credential: keys are addresses, client IDs, subjects and tool names.
func (g *Guard) record(r *http.Request, endpoint string, res Result, k Key) {
	if g.Audit == nil {
		return
	}
	gate := Limit{Name: res.Limit.Name, Burst: 1, Every: auditEvery}
	g.auditOnce.Do(func() { g.audited = &Memory{MaxKeys: auditKeys, Now: g.Now} })
	if first, _ := g.audited.Allow(r.Context(), gate, k.String()); !first.Allowed {
		return
	}
	details := map[string]any{
		"endpoint": endpoint, "limit": res.Limit.Name, "key": string(k.Kind),
		"retry_after": seconds(res.RetryAfter),
	}
	if k.Tool != "" {
		details["tool"] = boundedTool(k.Tool)
	}
	g.Audit(r.Context(), audit.Event{
		Type: audit.RateLimitExceeded, Risk: 40, User: k.User, Client: k.Client,
		IP: clientip.From(r), UserAgent: r.UserAgent(), RequestID: reqid.From(r.Context()),
		Details: details,
	})
}

func (g *Guard) log() *slog.Logger {
	if g.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Log
}

// maxAuditTool bounds the tool name an audit record quotes.
const maxAuditTool = 256

// boundedTool keeps an audit record of a tool name short: the name comes
// from the request body. A longer name keeps its first maxAuditTool bytes
// (cut at a UTF-8 boundary) and gains the SHA-256 of the whole name, so
// two long names sharing a prefix stay distinguishable in the trail.
func boundedTool(t string) string {
	if len(t) <= maxAuditTool {
		return t
	}
	cut := maxAuditTool
	for cut > 0 && !utf8.RuneStart(t[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(t))
	return t[:cut] + "…sha256:" + hex.EncodeToString(sum[:])
}

// SetHeaders sets the rate-limit response fields for res:
//
//   - Retry-After (RFC 9110 §10.2.3, RFC 6585 §4) on a refusal: the wait
//     until one request is allowed, in whole seconds rounded up, so a
//     client that obeys it finds quota waiting;
//   - RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers,
//     Structured Field lists): the policy as quota q = Burst per window
//     w = Burst × Every seconds (the time an empty bucket takes to fill),
//     and the key's state as r remaining and t seconds until the whole
//     quota is back. For example, after the 100th request of a burst of
//     100 refilling one a second: `"token_ip";q=100;w=100` and
//     `"token_ip";r=0;t=100`.
//
// Durations round up: a client waiting the advertised time is never early.
func SetHeaders(h http.Header, res Result) {
	name := strconv.Quote(res.Limit.Name) // names are [a-z_]: a valid sf-string
	if !res.Allowed {
		h.Set("Retry-After", strconv.Itoa(max(seconds(res.RetryAfter), 1)))
	}
	h.Set("RateLimit-Policy", name+";q="+strconv.Itoa(res.Limit.Burst)+";w="+strconv.Itoa(seconds(res.Limit.Window())))
	h.Set("RateLimit", name+";r="+strconv.Itoa(res.Remaining)+";t="+strconv.Itoa(seconds(res.ResetAfter)))
}

// seconds is d in whole seconds, rounded up.
func seconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
