package e2e

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// accessTTL is the access-token lifetime of the TypeScript client tests,
// the shortest the configuration admits: the test moves the gateway's
// clock past it to make the client refresh.
const accessTTL = time.Minute

// tsRun is one run of testdata/node/client.mjs against a gateway.
type tsRun struct {
	events []event
	hops   []string // the SDK's requests, labelled as the Go recorder does
	// expiredAt is the gateway's time once the test moved it past the
	// first access tokens' lifetime.
	expiredAt time.Time
}

// of returns the events of kind k, in order.
func (r tsRun) of(k string) []event {
	var out []event
	for _, e := range r.events {
		if e.str("event") == k {
			out = append(out, e)
		}
	}
	return out
}

// runTSClient runs client.mjs for user against g's files upstream. When
// the client waits for its token to expire, the test moves clk past the
// access-token lifetime and lets it go on. clientIDURL selects CIMD;
// empty, DCR.
func runTSClient(t *testing.T, node string, g *testenv.Gateway, clk *clock.Clock, user, clientIDURL string) tsRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"client.mjs", "--url", g.Resource(testenv.FilesPath), "--redirect", redirectURL,
		"--username", user, "--password", testenv.Password, "--admin-tool", demoupstream.AdminTool}
	if clientIDURL != "" {
		args = append(args, "--client-id-url", clientIDURL)
	}
	var env []string
	if g.HTTP.TLS != nil {
		env = append(env, "NODE_EXTRA_CA_CERTS="+certFile(t, g))
	}
	p := startNode(t, ctx, node, env, args...)
	var run tsRun
	t.Cleanup(func() {
		if t.Failed() {
			for _, e := range run.events {
				t.Logf("ts client: %v", e)
			}
		}
	})
	for e := p.next(t); e != nil; e = p.next(t) {
		run.events = append(run.events, e)
		switch e.str("event") {
		case "http":
			run.hops = append(run.hops, e.str("hop"))
		case "awaiting-expiry":
			clk.Advance(accessTTL + time.Minute)
			run.expiredAt = clk.Now()
			if _, err := p.stdin.Write([]byte("expired\n")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if stderr, err := p.wait(); err != nil {
		t.Fatalf("client.mjs: %v\nstderr:\n%s", err, stderr)
	}
	return run
}

// certFile writes the gateway's TLS certificate as a PEM file for
// NODE_EXTRA_CA_CERTS.
func certFile(t *testing.T, g *testenv.Gateway) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "gateway-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.HTTP.Certificate().Raw})
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// tsGateway is the demo gateway on a settable clock, with short-lived
// access tokens.
func tsGateway(t *testing.T, tls bool, mutate func(*config.Config)) (*testenv.Gateway, *clock.Clock) {
	t.Helper()
	clk := clock.New(time.Now())
	g := newGatewayWith(t, testenv.Options{TLS: tls, Now: clk.Now}, func(c *config.Config) {
		c.Signing.AccessTokenTTL = config.Duration(accessTTL)
		if mutate != nil {
			mutate(c)
		}
	})
	return g, clk
}

// tsCIMDPath is where the TypeScript client's metadata document is
// published.
const tsCIMDPath = "/clients/ts-e2e.json"

// TestTypeScriptSDKClient: the TypeScript SDK's own OAuth client, in a
// headless host (testdata/node/client.mjs), finds its way from a bare 401
// to a tool call knowing only the MCP URL, steps up to the admin tool on
// 403 insufficient_scope, and refreshes its expired access token, over
// http and https, registering by DCR or by a metadata document (CIMD).
func TestTypeScriptSDKClient(t *testing.T) {
	node := requireNode(t)
	forSchemes(t, func(t *testing.T, tls bool) {
		t.Run("dcr", func(t *testing.T) {
			g, clk := tsGateway(t, tls, nil)
			run := runTSClient(t, node, g, clk, testenv.Bob, "")
			clients := run.of("client")
			if len(clients) != 1 {
				t.Fatalf("%d client registrations, want 1 kept for the whole run: %v", len(clients), clients)
			}
			requireTSRun(t, g, run, clients[0].str("client_id"), true)
			if n := len(g.AuditEvents("client_registered")); n != 1 {
				t.Errorf("%d client_registered audit events, want 1", n)
			}
		})
		t.Run("cimd", func(t *testing.T) {
			srv := testenv.NewCIMDServer(t)
			srv.Serve(tsCIMDPath, srv.Document(tsCIMDPath, "TypeScript SDK e2e client", redirectURL), "")
			g, clk := tsGateway(t, tls, srv.Trust())
			id := srv.ClientID(tsCIMDPath)
			run := runTSClient(t, node, g, clk, testenv.Bob, id)
			requireTSRun(t, g, run, id, false)
			if n := len(g.AuditEvents("client_registered")); n != 0 {
				t.Errorf("%d client_registered audit events, want none for a CIMD client", n)
			}
			if srv.Hits(tsCIMDPath) == 0 {
				t.Error("the gateway never fetched the metadata document")
			}
		})
	})
}

// tsHops are the requests of one TypeScript SDK run, in order; GETs of
// the MCP endpoint (the SDK's standalone SSE stream, opened from its own
// task) are left out, as the Go recorder leaves them out.
func tsHops(dcr bool) []string {
	discover := []string{prmHop, asmHop}
	mcp := func(rpc string, status int) []string { return []string{mcpHop(rpc, status)} }
	token := func(grant string) []string { return []string{"POST /oauth/token " + grant + " -> 200"} }
	var h []string
	add := func(parts ...[]string) {
		for _, p := range parts {
			h = append(h, p...)
		}
	}
	// First contact: 401, discovery, registration (DCR), the user, then
	// the code exchange (the SDK discovers again when it finishes).
	add(mcp("initialize", 401), discover)
	if dcr {
		add([]string{regHop})
	}
	add(discover, token("authorization_code"))
	add(mcp("initialize", 200), mcp("notifications/initialized", 202), mcp("tools/list", 200), mcp("tools/call echo", 200))
	// Step-up: the SDK refreshes, which cannot widen the grant, so the
	// retry is refused again and the SDK gives up; the host authorizes
	// for the challenged scope and retries.
	add(mcp(adminCall, 403), discover, token("refresh_token"), mcp(adminCall, 403))
	add(discover, discover, token("authorization_code"), mcp(adminCall, 200), mcp("tools/list", 200))
	// Expiry: 401 invalid_token, refresh, retry.
	add(mcp("tools/call echo", 401), discover, token("refresh_token"), mcp("tools/call echo", 200))
	return h
}

// requireTSRun checks a run of client.mjs for Bob as clientID.
func requireTSRun(t *testing.T, g *testenv.Gateway, run tsRun, clientID string, dcr bool) {
	t.Helper()
	if last := run.events[len(run.events)-1]; last.str("event") != "done" {
		t.Fatalf("client.mjs ended with %v, want done", last)
	}
	var hops []string
	for _, h := range run.hops {
		if !strings.HasPrefix(h, "GET "+testenv.FilesPath+" ") {
			hops = append(hops, h)
		}
	}
	if want := tsHops(dcr); !slices.Equal(hops, want) {
		t.Errorf("TypeScript SDK requests\n  %q\nwant\n  %q", hops, want)
	}

	asked := run.of("authorize")
	if len(asked) != 2 {
		t.Fatalf("%d authorizations, want 2 (first contact, step-up): %v", len(asked), asked)
	}
	for i, want := range []string{"files:read", "files:read " + adminScope} {
		a := asked[i]
		if !sameScopes(a.str("scope"), want) || a.str("client_id") != clientID || a.str("resource") != g.Resource(testenv.FilesPath) || a.str("redirect_uri") != redirectURL {
			t.Errorf("authorization %d asked for %v: want scope %q for client %s, resource %s", i, a, want, clientID, g.Resource(testenv.FilesPath))
		}
	}
	if n := len(run.of("stepup-refused-by-sdk")); n != 1 {
		t.Errorf("%d step-ups the SDK gave up on, want 1 (it refreshes first: typescript-sdk#2255)", n)
	}

	tools := run.of("tools")
	if len(tools) != 2 || slices.Contains(names(tools[0]), demoupstream.AdminTool) || !slices.Contains(names(tools[0]), "echo") ||
		!slices.Contains(names(tools[1]), demoupstream.AdminTool) {
		t.Errorf("tools/list results %v: want echo and no %s before the step-up, %[2]s after", tools, demoupstream.AdminTool)
	}
	var got []string
	for _, r := range run.of("result") {
		if r["is_error"] != false {
			t.Errorf("tool result %v is an error", r)
		}
		got = append(got, r.str("tool")+": "+r.str("text"))
	}
	if len(got) != 3 || got[0] != "echo: hello from the TypeScript SDK" || !strings.HasPrefix(got[1], demoupstream.AdminTool+": ") || got[2] != "echo: after the refresh" {
		t.Errorf("tool results %q: want echo, %s, echo after the refresh", got, demoupstream.AdminTool)
	}
	requireTSTokens(t, g, run, clientID)
	requireTSChallenges(t, g, run)
	requireTSDiscovery(t, g, run)
	t.Logf("TypeScript SDK client %s: %d requests, 2 authorizations, results %q", clientID, len(run.hops), got)
}

// requireTSTokens checks the tokens the SDK saved: files:read first, the
// step-up's refresh still files:read (a refresh never widens a grant,
// SPEC AS-4), then the stepped-up scope, kept by the refresh after expiry,
// which is minted at the moved clock.
func requireTSTokens(t *testing.T, g *testenv.Gateway, run tsRun, clientID string) {
	t.Helper()
	toks := run.of("tokens")
	want := []string{"files:read", "files:read", "files:read " + adminScope, "files:read " + adminScope}
	if len(toks) != len(want) {
		t.Fatalf("%d tokens saved, want %d: %v", len(toks), len(want), toks)
	}
	for i, tok := range toks {
		c := testenv.JWTPayload(t, tok.str("access_token"))
		if !sameScopes(c["scope"], want[i]) || c["client_id"] != clientID || c["aud"] != g.Resource(testenv.FilesPath) || c["sub"] != "local:"+testenv.Bob || tok["refresh"] != true {
			t.Errorf("token %d: claims %v, refresh %v: want scope %q for %s, audience %s, a refresh token", i, c, tok["refresh"], want[i], clientID, g.Resource(testenv.FilesPath))
		}
	}
	last := testenv.JWTPayload(t, toks[len(toks)-1].str("access_token"))
	if iat, _ := last["iat"].(float64); int64(iat) < run.expiredAt.Unix() {
		t.Errorf("the refreshed token was issued at %v, before the clock moved past expiry (%d)", last["iat"], run.expiredAt.Unix())
	}
}

// requireTSChallenges checks the gateway's challenges as the SDK read
// them (SPEC PX-2): no token, a bare challenge with the resource
// metadata URL and the upstream's scope; the admin tool, 403
// insufficient_scope with every scope it needs; an expired token,
// invalid_token.
func requireTSChallenges(t *testing.T, g *testenv.Gateway, run tsRun) {
	t.Helper()
	prm := g.URL + "/.well-known/oauth-protected-resource" + testenv.FilesPath
	want := map[string]string{
		mcpHop("initialize", 401):      `Bearer resource_metadata="` + prm + `", scope="files:read"`,
		mcpHop(adminCall, 403):         `Bearer error="insufficient_scope", resource_metadata="` + prm + `", scope="files:read ` + adminScope + `"`,
		mcpHop("tools/call echo", 401): `Bearer error="invalid_token", resource_metadata="` + prm + `", scope="files:read"`,
	}
	seen := 0
	for _, e := range run.of("http") {
		w, ok := want[e.str("hop")]
		if !ok {
			continue
		}
		seen++
		if got := e.str("www_authenticate"); got != w {
			t.Errorf("%s: WWW-Authenticate\n  %s\nwant\n  %s", e.str("hop"), got, w)
		}
	}
	if seen != 4 { // the first 401, two 403s, the expired token's 401
		t.Errorf("%d challenges seen, want 4", seen)
	}
}

// requireTSDiscovery checks the metadata the SDK discovered, each time:
// the resource's (RFC 9728) and the authorization server's (RFC 8414,
// SPEC AS-1), PKCE S256 included (client.mjs also refuses to go on
// without it, as the MCP authorization spec asks of clients).
func requireTSDiscovery(t *testing.T, g *testenv.Gateway, run tsRun) {
	t.Helper()
	found := run.of("discovery")
	if len(found) == 0 {
		t.Fatal("the SDK reported no discovery")
	}
	for _, d := range found {
		prm, _ := d["resource_metadata"].(map[string]any)
		as, _ := d["as_metadata"].(map[string]any)
		if prm["resource"] != g.Resource(testenv.FilesPath) || !slices.Equal(strList(prm["authorization_servers"]), []string{g.URL}) {
			t.Errorf("resource metadata %v: want resource %s, authorization server %s", prm, g.Resource(testenv.FilesPath), g.URL)
		}
		if as["issuer"] != g.URL || !slices.Equal(strList(as["code_challenge_methods_supported"]), []string{"S256"}) ||
			as["token_endpoint"] != g.URL+"/oauth/token" || as["client_id_metadata_document_supported"] != (g.Config.Registration.CIMDEnabled()) {
			t.Errorf("authorization server metadata %v: want issuer %s, S256 only, token endpoint, CIMD support %v", as, g.URL, g.Config.Registration.CIMDEnabled())
		}
	}
}

// strList is a JSON array of strings.
func strList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// names are the tool names of a tools event.
func names(e event) []string { return strList(e["names"]) }
