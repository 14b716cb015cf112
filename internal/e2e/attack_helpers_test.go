package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// The attack suite (SPEC section 10): each TestAttack* test runs attacks
// against the real server (testenv's gateway, the whole handler chain and
// listener settings) and asserts the refusal: the status, the OAuth or
// JSON-RPC error, that no token or code was issued and that nothing
// reached the upstream. Every response an attacker gets is also checked
// for leaked internals (requireNoLeak). CI (.ci/run) requires every
// top-level attack test to pass and none to be skipped.

// leakMarkers are strings that only an internal error can put into a
// response: Go runtime and error texts, source positions, database and
// network errors. Matched case-insensitively.
var leakMarkers = []struct{ kind, marker string }{
	{"Go runtime error", "runtime error"},
	{"panic", "panic"},
	{"stack trace", "goroutine "},
	{"stack trace", "runtime/debug"},
	{"source file path", ".go:"},
	{"SQL error", "sql:"},
	{"PostgreSQL error", "pq:"},
	{"PostgreSQL error", "sqlstate"},
	{"SQLite error", "sqlite"},
	{"Redis error", "redis:"},
	{"network error", "dial tcp"},
	{"network error", "connection refused"},
	{"context error", "context deadline exceeded"},
	{"Go error wrapping", "%!"},
}

// leaks returns every leak in a response's headers and body: the markers
// above, and any of secrets (seal keys, client secrets, upstream
// addresses) verbatim. An empty secret is ignored.
func leaks(h http.Header, body string, secrets ...string) []string {
	var all strings.Builder
	for name, vals := range h {
		for _, v := range vals {
			all.WriteString(name + ": " + v + "\n")
		}
	}
	all.WriteString(body)
	text := all.String()
	lower := strings.ToLower(text)
	var found []string
	for _, m := range leakMarkers {
		if strings.Contains(lower, m.marker) {
			found = append(found, m.kind+" ("+m.marker+")")
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			found = append(found, "secret or internal address "+redact(s))
		}
	}
	return found
}

func redact(s string) string {
	if len(s) <= 6 {
		return "…"
	}
	return s[:3] + "…"
}

// requireNoLeak fails t if a response (headers and body) leaks internals
// or any of secrets (SPEC AS-10: no Go error strings, stack traces, file
// paths, SQL or internal addresses ever reach a client).
func requireNoLeak(t testing.TB, h http.Header, body string, secrets ...string) {
	t.Helper()
	if found := leaks(h, body, secrets...); len(found) > 0 {
		t.Errorf("response leaks internals: %s\nheaders: %v\nbody: %.2000s", strings.Join(found, "; "), h, body)
	}
}

// upstreamLog is the files upstream's view: every request that reached
// it, so an attack can assert that nothing was forwarded.
type upstreamLog struct {
	mu   sync.Mutex
	reqs []*http.Request // clones without bodies
}

func (u *upstreamLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.reqs = append(u.reqs, r.Clone(context.Background()))
		u.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (u *upstreamLog) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

// attackEnv is a gateway whose files upstream is the demo MCP server
// behind an upstreamLog, with the secrets no response may carry.
type attackEnv struct {
	g       *testenv.Gateway
	up      *upstreamLog
	secrets []string
}

func newAttackEnv(t *testing.T, o testenv.Options, mutate func(*config.Config)) *attackEnv {
	t.Helper()
	log := &upstreamLog{}
	srv := httptest.NewServer(log.wrap(demoupstream.Handler()))
	t.Cleanup(srv.Close)
	if o.Driver == "" {
		o.Driver = "memory"
	}
	if o.Driver == "sqlite" {
		o.Driver = "" // testenv's default: a file in t.TempDir()
	}
	o.Mutate = func(c *config.Config) {
		c.Upstreams[0].URL = srv.URL + "/mcp"
		if mutate != nil {
			mutate(c)
		}
	}
	g := testenv.New(t, o)
	secrets := []string{testenv.ConfidentialSecret, strings.TrimPrefix(srv.URL, "http://")}
	for _, k := range g.Config.Secrets.Keys {
		secrets = append(secrets, k.Value)
	}
	return &attackEnv{g: g, up: log, secrets: secrets}
}

// noLeak checks a response for leaks of this environment's secrets.
func (a *attackEnv) noLeak(t testing.TB, h http.Header, body string) {
	t.Helper()
	requireNoLeak(t, h, body, a.secrets...)
}

// page is a browser response, leak-checked.
func (a *attackEnv) page(t testing.TB, r testenv.Response) testenv.Response {
	t.Helper()
	a.noLeak(t, r.Header, r.Body)
	return r
}

// reply is an AS reply, leak-checked.
func (a *attackEnv) reply(t testing.TB, r testenv.Reply) testenv.Reply {
	t.Helper()
	a.noLeak(t, r.Header, r.Raw)
	return r
}

// accessToken runs a whole flow for alice and returns her access token
// for the files upstream.
func (a *attackEnv) accessToken(t *testing.T) string {
	t.Helper()
	_, r := a.g.Tokens(a.g.NewBrowser(), testenv.PublicClient, a.g.Resource(testenv.FilesPath), testenv.Alice)
	return r.Get("access_token")
}

// mcp sends one request to the files route and returns the response
// (body read, leak-checked). edit adjusts the request.
func (a *attackEnv) mcp(t *testing.T, method, target, body string, edit func(*http.Request)) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.g.URL+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	if edit != nil {
		edit(req)
	}
	resp, err := a.g.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a.noLeak(t, resp.Header, string(raw))
	return resp, string(raw)
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"attacker","version":"1"}}}`

func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// requireNothingForwarded fails unless the upstream saw exactly before
// requests: the attack never reached it.
func (a *attackEnv) requireNothingForwarded(t testing.TB, before int) {
	t.Helper()
	if n := a.up.count(); n != before {
		t.Errorf("the upstream got %d requests during the attack, want none", n-before)
	}
}

// requireNotApproved fails unless the pending authorization id is still
// unapproved: its login step sends the browser back to consent.
func requireNotApproved(t *testing.T, b *testenv.Browser, id string) {
	t.Helper()
	loc := b.Get("/oauth/login?req=" + id).Location()
	if loc == nil || loc.Path != "/oauth/consent" || loc.Query().Get("req") != id {
		t.Fatalf("pending request %s was approved (login step answers %v)", id, loc)
	}
}

// loopbackCB is the public test client's registered redirect URI.
const loopbackCB = "http://127.0.0.1/callback"

func publicParams(g *testenv.Gateway) url.Values {
	return g.AuthParams(testenv.PublicClient, loopbackCB, g.Resource(testenv.FilesPath), testenv.NewPKCE())
}

// requireNoCode fails if resp sends the browser to the client with a code.
func requireNoCode(t testing.TB, resp testenv.Response) {
	t.Helper()
	if loc := resp.Location(); loc != nil && loc.Query().Get("code") != "" {
		t.Fatalf("a code was issued: %s", loc)
	}
}
