package proxy_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// policyRules is the files upstream's per-tool policy in these tests.
var policyRules = []config.ToolRule{
	{Match: "reset_counter", Groups: []string{"admins"}},
	{Match: "write_*", Scopes: []string{"files:write"}},
	{Match: "delete_all", Deny: true},
	{Match: "admin_write", Groups: []string{"admins"}, Scopes: []string{"files:write"}},
	{Match: "alice_only", Users: []string{"local:alice"}},
	{Match: "secret://*", Groups: []string{"admins"}},
	{Match: "secret_prompt", Deny: true},
}

func policyGateway(t *testing.T, up string) *testenv.Gateway {
	t.Helper()
	return gateway(t, up, func(c *config.Config) { c.Upstreams[0].Tools = policyRules })
}

func toolCall(id int, name, args string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, name, args)
}

// requireForbidden fails unless r is a 403 JSON-RPC error for id with no
// challenge at all: a step-up cannot help, so inviting one would send the
// client round a loop (SPEC PX-7).
func requireForbidden(t *testing.T, r reply, id float64) {
	t.Helper()
	m := requireRPCError(t, r, http.StatusForbidden, -32003)
	if m["id"] != id {
		t.Errorf("id %v, want %v", m["id"], id)
	}
	if v := r.Header.Values("WWW-Authenticate"); len(v) != 0 {
		t.Errorf("a refusal no token could lift carries a challenge: %q", v)
	}
}

// TestPolicyDecisions: the first matching rule decides each tools/call,
// resources/read and prompts/get (SPEC PX-7). Missing scopes get a 403
// insufficient_scope challenge naming every scope the call needs; a deny
// or a failed group or user condition gets a 403 JSON-RPC error with no
// challenge, even when a scope is missing too. Refused calls never reach
// the upstream.
func TestPolicyDecisions(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := policyGateway(t, up.URL)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	aliceWrite := accessToken(t, g, testenv.Alice, testenv.FilesPath, "files:write")
	bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
	bobWrite := accessToken(t, g, testenv.Bob, testenv.FilesPath, "files:write")
	stepUp := `Bearer error="insufficient_scope", resource_metadata="` + g.URL +
		`/.well-known/oauth-protected-resource/mcp/files", scope="files:read files:write"`

	type outcome int
	const (
		allowed outcome = iota
		forbidden
		insufficient
	)
	cases := []struct {
		who, token, body string
		want             outcome
	}{
		{"alice", alice, toolCall(11, "reset_counter", `{}`), forbidden},
		{"bob", bob, toolCall(12, "reset_counter", `{}`), allowed},
		{"alice", alice, toolCall(13, "write_file", `{"path":"a"}`), insufficient},
		{"alice+write", aliceWrite, toolCall(14, "write_file", `{"path":"a"}`), allowed},
		{"bob+write", bobWrite, toolCall(15, "delete_all", `{}`), forbidden},
		{"alice", alice, toolCall(16, "admin_write", `{}`), forbidden}, // group and scope missing: no step-up
		{"alice+write", aliceWrite, toolCall(17, "admin_write", `{}`), forbidden},
		{"bob", bob, toolCall(18, "admin_write", `{}`), insufficient},
		{"bob+write", bobWrite, toolCall(19, "admin_write", `{}`), allowed},
		{"alice", alice, toolCall(20, "alice_only", `{}`), allowed},
		{"bob", bob, toolCall(21, "alice_only", `{}`), forbidden},
		{"alice", alice, toolCall(22, "echo", `{"text":"x"}`), allowed}, // no rule: upstream scopes only
		{"alice", alice, `{"jsonrpc":"2.0","id":23,"method":"resources/read","params":{"uri":"secret://plans"}}`, forbidden},
		{"bob", bob, `{"jsonrpc":"2.0","id":24,"method":"resources/read","params":{"uri":"secret://plans"}}`, allowed},
		{"alice", alice, `{"jsonrpc":"2.0","id":25,"method":"resources/read","params":{"uri":"demo://readme"}}`, allowed},
		{"bob", bob, `{"jsonrpc":"2.0","id":26,"method":"prompts/get","params":{"name":"secret_prompt"}}`, forbidden},
		{"alice", alice, `{"jsonrpc":"2.0","id":27,"method":"prompts/get","params":{"name":"greeting"}}`, allowed},
		// A batch is refused whole if any call in it is.
		{"alice", alice, `[` + toolCall(28, "echo", `{}`) + `,` + toolCall(29, "reset_counter", `{}`) + `]`, forbidden},
		// A rule names a tool, never a method: a tool called like a rule's
		// resource pattern is still just a tool.
		{"alice", alice, toolCall(30, "secret://plans", `{}`), forbidden},
	}
	for _, c := range cases {
		before := up.count()
		r := post(t, g, testenv.FilesPath, c.token, c.body, nil)
		forwarded := up.count() - before
		t.Run(fmt.Sprintf("%s/%.60s", c.who, c.body), func(t *testing.T) {
			switch c.want {
			case allowed:
				if r.Status != http.StatusOK || forwarded != 1 {
					t.Fatalf("want allowed: %d %s (forwarded %d)", r.Status, r.Body, forwarded)
				}
				return
			case forbidden:
				if !strings.HasPrefix(c.body, "[") {
					var req struct{ ID float64 }
					json.Unmarshal([]byte(c.body), &req)
					requireForbidden(t, r, req.ID)
				} else {
					requireRPCError(t, r, http.StatusForbidden, -32003)
					if v := r.Header.Values("WWW-Authenticate"); len(v) != 0 {
						t.Errorf("challenge %q", v)
					}
				}
			case insufficient:
				requireRPCError(t, r, http.StatusForbidden, -32003)
				if v := r.Header.Values("WWW-Authenticate"); len(v) != 1 || v[0] != stepUp {
					t.Errorf("WWW-Authenticate %q, want exactly %q", v, stepUp)
				}
			}
			if forwarded != 0 {
				t.Errorf("a refused call was forwarded")
			}
		})
	}
}

// TestToolCallAudit: each decision is audited with the tool, the decision,
// the rule and the SHA-256 of the raw arguments, never their values
// (SPEC PX-7, AU-1).
func TestToolCallAudit(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := policyGateway(t, up.URL)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	args := `{"text": "TOPSECRET-ARGUMENT-VALUE",  "n":1}`
	sum := sha256.Sum256([]byte(args))
	hash := hex.EncodeToString(sum[:])

	if r := post(t, g, testenv.FilesPath, alice, toolCall(1, "echo", args), nil); r.Status != http.StatusOK {
		t.Fatalf("echo: %d %s", r.Status, r.Body)
	}
	requireForbidden(t, post(t, g, testenv.FilesPath, alice, toolCall(2, "reset_counter", args), nil), 2)

	allow := g.RequireAudit(t, "tool_call_allowed", "tool", "echo", 0)
	deny := g.RequireAudit(t, "tool_call_denied", "tool", "reset_counter", 0)
	for _, c := range []struct {
		e        testenv.AuditEvent
		decision string
		rule     float64
	}{{allow, "allow", -1}, {deny, "forbidden", 0}} {
		d := c.e.Details
		if d["decision"] != c.decision || d["rule"] != c.rule || d["arguments_sha256"] != hash || d["method"] != "tools/call" {
			t.Errorf("audit details %v: want decision %s, rule %v, arguments_sha256 %s", d, c.decision, c.rule, hash)
		}
		if c.e.User != "local:alice" || c.e.Client != testenv.PublicClient {
			t.Errorf("audit user %q client %q", c.e.User, c.e.Client)
		}
	}
	if deny.Details["rule_match"] != "reset_counter" {
		t.Errorf("denied audit rule_match %v", deny.Details["rule_match"])
	}
	if strings.Contains(g.Audit.String(), "TOPSECRET") {
		t.Error("an argument value reached the audit log")
	}
	if strings.Contains(g.Logs.String(), "TOPSECRET") {
		t.Error("an argument value reached the log")
	}
}

// TestListFiltering: tools/list, prompts/list and resources/list answers
// show only what the caller may use, in JSON and in SSE answers, single
// and batched (SPEC PX-7).
func TestListFiltering(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"json", "sse", "sse-chunked"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			up := newRecorder(t)
			up.sse, up.chunked = mode != "json", mode == "sse-chunked"
			g := policyGateway(t, up.URL)
			alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
			aliceWrite := accessToken(t, g, testenv.Alice, testenv.FilesPath, "files:write")
			bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
			cases := []struct {
				token, method, field string
				want                 []string
			}{
				{alice, "tools/list", "tools", []string{"echo"}},
				{aliceWrite, "tools/list", "tools", []string{"echo", "write_file"}},
				{bob, "tools/list", "tools", []string{"echo", "reset_counter"}},
				{alice, "prompts/list", "prompts", []string{"greeting"}},
				{alice, "resources/list", "resources", []string{"demo://readme"}},
				{bob, "resources/list", "resources", []string{"demo://readme", "secret://plans"}},
			}
			for _, c := range cases {
				r := post(t, g, testenv.FilesPath, c.token, `{"jsonrpc":"2.0","id":"l1","method":"`+c.method+`"}`, nil)
				if got := listNames(t, r, "l1", c.field); !slices.Equal(got, c.want) {
					t.Errorf("%s: %v, want %v", c.method, got, c.want)
				}
			}
			batch := `[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","id":3,"method":"prompts/list","params":{}}]`
			r := post(t, g, testenv.FilesPath, alice, batch, nil)
			if got := listNames(t, r, float64(1), "tools"); !slices.Equal(got, []string{"echo"}) {
				t.Errorf("batched tools/list: %v", got)
			}
			if got := listNames(t, r, float64(3), "prompts"); !slices.Equal(got, []string{"greeting"}) {
				t.Errorf("batched prompts/list: %v", got)
			}
		})
	}
}

// TestListFilterIDSpelling: the list filter must recognise the answer to
// a list request however the client spelled its id. An upstream decodes
// the id and writes it back in its own spelling ("\u0031" comes back as
// "1", 1.0 as 1); if the gateway matches answers to requests by the raw
// bytes, the answer passes unfiltered and shows Alice what policy hides.
func TestListFilterIDSpelling(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := policyGateway(t, up.URL)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	for _, id := range []string{`"\u0031"`, `"a\/b"`, `1.0`, `1e0`, `10E-1`, `-0`} {
		r := post(t, g, testenv.FilesPath, alice, `{"jsonrpc":"2.0","id":`+id+`,"method":"tools/list"}`, nil)
		for _, m := range rpcMessages(t, r) {
			if strings.Contains(fmt.Sprint(m["result"]), "reset_counter") {
				t.Errorf("id %s: the hidden tool is listed: %s", id, r.Body)
			}
		}
	}
}

// TestListFilterGoSDKUpstream: the same with the real go-sdk demo
// upstream, which answers over SSE and normalises a float id to an
// integer.
func TestListFilterGoSDKUpstream(t *testing.T) {
	t.Parallel()
	up, _ := newDemoUpstream(t)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.Upstreams[0].Tools = []config.ToolRule{{Match: demoupstream.AdminTool, Groups: []string{"admins"}}}
	})
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
	for who, tok := range map[string]string{"alice": alice, "bob": bob} {
		sid := initSession(t, g, testenv.FilesPath, tok)
		r := post(t, g, testenv.FilesPath, tok, `{"jsonrpc":"2.0","id":5,"method":"tools/list"}`, withSession(sid))
		names := listNames(t, r, float64(5), "tools")
		if slices.Contains(names, demoupstream.AdminTool) != (who == "bob") || !slices.Contains(names, "echo") {
			t.Errorf("%s sees %v", who, names)
		}
		if who == "alice" {
			requireForbidden(t, post(t, g, testenv.FilesPath, tok, toolCall(6, demoupstream.AdminTool, `{}`), withSession(sid)), 6)
			r := post(t, g, testenv.FilesPath, tok, `{"jsonrpc":"2.0","id":7.0,"method":"tools/list"}`, withSession(sid))
			if strings.Contains(r.Body, demoupstream.AdminTool) {
				t.Errorf("id 7.0: the hidden tool is listed: %s", r.Body)
			}
		}
	}
}

// TestUsersRuleMatchesVerifiedEmail: a users entry may name a verified
// email (SPEC PX-7); the local provider verifies its users' emails.
func TestUsersRuleMatchesVerifiedEmail(t *testing.T) {
	t.Parallel()
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.Upstreams[0].Tools = []config.ToolRule{{Match: "mail_tool", Users: []string{"alice@example.com"}}}
	})
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
	requireForbidden(t, post(t, g, testenv.FilesPath, bob, toolCall(1, "mail_tool", `{}`), nil), 1)
	if r := post(t, g, testenv.FilesPath, alice, toolCall(2, "mail_tool", `{}`), nil); r.Status != http.StatusOK {
		t.Fatalf("alice named by her verified email: %d %s", r.Status, r.Body)
	}
}

// TestListFilterResumedStream: MCP resumability (2025-11-25) lets a
// client re-read a POST's SSE stream with GET and Last-Event-ID. A go-sdk
// upstream with an event store replays the stored tools/list answer on
// that GET, so the gateway must filter it there too, or Alice reads the
// hidden tool by resuming her own stream.
func TestListFilterResumedStream(t *testing.T) {
	t.Parallel()
	s := mcp.NewServer(&mcp.Implementation{Name: "resumable", Version: "1"}, nil)
	type in struct{}
	type out struct{}
	noop := func(context.Context, *mcp.CallToolRequest, in) (*mcp.CallToolResult, out, error) {
		return nil, out{}, nil
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo"}, noop)
	mcp.AddTool(s, &mcp.Tool{Name: "reset_counter"}, noop)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{EventStore: mcp.NewMemoryEventStore(nil)})
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.Upstreams[0].Tools = []config.ToolRule{{Match: "reset_counter", Groups: []string{"admins"}}}
	})
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	const version = "2025-11-25"
	withVersion := func(sid string) func(*http.Request) {
		return func(r *http.Request) {
			if sid != "" {
				r.Header.Set("Mcp-Session-Id", sid)
			}
			r.Header.Set("Mcp-Protocol-Version", version)
		}
	}
	init := post(t, g, testenv.FilesPath, alice, strings.Replace(initializeBody, "2025-06-18", version, 1), withVersion(""))
	sid := init.Header.Get("Mcp-Session-Id")
	if init.Status != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d %s", init.Status, init.Body)
	}
	if r := post(t, g, testenv.FilesPath, alice, initializedBody, withVersion(sid)); r.Status != http.StatusAccepted {
		t.Fatalf("initialized: %d %s", r.Status, r.Body)
	}
	r := post(t, g, testenv.FilesPath, alice, `{"jsonrpc":"2.0","id":5,"method":"tools/list"}`, withVersion(sid))
	if names := listNames(t, r, float64(5), "tools"); !slices.Equal(names, []string{"echo"}) {
		t.Fatalf("tools/list: %v", names)
	}
	// The priming event's id, the point to resume from.
	var prime string
	for line := range strings.Lines(r.Body) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "id:"); ok && prime == "" {
			prime = strings.TrimSpace(v)
		}
	}
	if prime == "" {
		t.Fatalf("no event id in the POST stream:\n%s", r.Body)
	}
	resumed := call(t, g, http.MethodGet, testenv.FilesPath, alice, "", func(r *http.Request) {
		withVersion(sid)(r)
		r.Header.Set("Last-Event-ID", prime)
	})
	if strings.Contains(resumed.Body, "reset_counter") {
		t.Errorf("resumed stream shows the hidden tool: %d\n%s", resumed.Status, resumed.Body)
	}
}

// TestListFilterFailsClosed: a list answer the gateway cannot read (here
// gzip-encoded although the gateway asked for no compression) must not
// reach the client unfiltered (filter.go: "fail closed").
func TestListFilterFailsClosed(t *testing.T) {
	t.Parallel()
	up := newRecorderFunc(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(answer(body))
		zw.Close()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(buf.Bytes())
	})
	g := policyGateway(t, up.URL)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	req, _ := http.NewRequest(http.MethodPost, g.URL+testenv.FilesPath, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := g.Client().Do(req) // the transport decompresses gzip transparently
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(b), "reset_counter") {
		t.Errorf("an unreadable list answer passed unfiltered: %d %s", resp.StatusCode, b)
	}
}
