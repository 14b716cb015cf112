package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// The scenario steps both registration flavours share: first contact,
// step-up granted, step-up refused.

// firstContact connects with no token: 401, discovery, registration,
// login and consent, token, then the handshake again (the go-sdk probes
// with server/discover and falls back to initialize, as the demo upstream
// offers no 2026-07-28 version); tools/list hides the admin tool from a
// files:read token, and echo answers.
func firstContact(t *testing.T, c *client, f flavour) *mcp.ClientSession {
	t.Helper()
	cs := c.connect(t)
	names := toolNames(t, cs)
	echo(t, cs, "hello through the gateway")
	want := append([]string{mcpHop("server/discover", 401)}, f.authorizationHops()...)
	want = append(want, handshakeHops()...)
	requireHops(t, c.rec, 0, append(want, mcpHop("tools/list", 200), mcpHop("tools/call echo", 200))...)

	if slices.Contains(names, demoupstream.AdminTool) || !slices.Contains(names, "echo") {
		t.Errorf("tools/list with files:read = %v: want echo, not %s", names, demoupstream.AdminTool)
	}
	asked := c.ua.authorizations()
	if len(asked) != 1 {
		t.Fatalf("%d authorizations on first contact, want 1: %+v", len(asked), asked)
	}
	if a := asked[0]; a.Scope != "files:read" || a.Resource != c.g.Resource(testenv.FilesPath) || a.RedirectURI != redirectURL {
		t.Errorf("first authorization asked for %+v: want scope files:read for %s", a, c.g.Resource(testenv.FilesPath))
	}
	if got := c.claims(t)["scope"]; got != "files:read" {
		t.Errorf("first token scope %v, want files:read", got)
	}
	return cs
}

// handshakeHops opens a session with a valid token.
func handshakeHops() []string {
	return []string{mcpHop("server/discover", 200), mcpHop("initialize", 200), mcpHop("notifications/initialized", 202)}
}

// callAdmin calls the admin tool once.
func callAdmin(cs *mcp.ClientSession) (*mcp.CallToolResult, error) {
	return cs.CallTool(context.Background(), &mcp.CallToolParams{Name: demoupstream.AdminTool})
}

// stepUp calls the admin tool with a files:read token: 403
// insufficient_scope, one authorization for files:read and files:admin,
// and the retry. It returns the call's outcome and the session to go on
// with: for DCR a new one, as the stepped-up token belongs to another
// client (see flavour). That new session needs no new authorization.
func stepUp(t *testing.T, c *client, f flavour, cs *mcp.ClientSession, granted bool) (*mcp.ClientSession, *mcp.CallToolResult, error) {
	t.Helper()
	mark := c.rec.mark()
	res, err := callAdmin(cs)
	switch {
	case !granted:
		// Policy runs before the session check (pipeline.go), so the
		// retry is refused for its scope whatever the client.
		requireHops(t, c.rec, mark, append(f.stepUpHops(), mcpHop(adminCall, 403))...)
	case !f.dcr:
		requireHops(t, c.rec, mark, append(f.stepUpHops(), mcpHop(adminCall, 200))...)
	default:
		requireHops(t, c.rec, mark, append(f.stepUpHops(), mcpHop(adminCall, 404))...)
		requireSessionLost(t, err)
	}
	if !f.dcr {
		return cs, res, err
	}
	if !granted {
		mark = c.rec.mark()
		_, lost := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
		requireSessionLost(t, lost)
		requireHops(t, c.rec, mark, mcpHop("tools/call echo", 404))
	}
	mark = c.rec.mark()
	cs = c.connect(t)
	want := handshakeHops()
	if granted {
		res, err = callAdmin(cs)
		want = append(want, mcpHop(adminCall, 200))
	}
	requireHops(t, c.rec, mark, want...)
	return cs, res, err
}

// requireSessionLost fails unless err is the gateway's 404 for an MCP
// session that another client opened (SPEC PX-9).
func requireSessionLost(t *testing.T, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "session not found") {
		t.Fatalf("call on the DCR client's first session after step-up: %v, want 404 session not found", err)
	}
}

// stepUpGranted: for a user in group admins the step-up yields a token
// with files:admin, the admin tool answers, and tools/list shows it.
func stepUpGranted(t *testing.T, c *client, f flavour, cs *mcp.ClientSession) {
	t.Helper()
	cs, res, err := stepUp(t, c, f, cs, true)
	if err != nil || res.IsError {
		t.Fatalf("%s after step-up = %+v, %v", demoupstream.AdminTool, res, err)
	}
	requireAuthorizations(t, c, 2)
	if got := c.claims(t)["scope"]; !sameScopes(got, "files:read "+adminScope) {
		t.Errorf("stepped-up token scope %v, want files:read %s", got, adminScope)
	}
	if names := toolNames(t, cs); !slices.Contains(names, demoupstream.AdminTool) {
		t.Errorf("tools/list after step-up = %v, want %s", names, demoupstream.AdminTool)
	}
}

// stepUpRefused: a user outside group admins gets the same challenge and
// the client steps up once, but the AS grants only files:read (it drops
// what the user may not have, SPEC AS-9), so the retry is refused again
// and the client gives up rather than loop: each call costs at most one
// authorization. The user keeps the tools she may use.
func stepUpRefused(t *testing.T, c *client, f flavour, cs *mcp.ClientSession) {
	t.Helper()
	cs, res, err := stepUp(t, c, f, cs, false)
	requireInsufficientScope(t, res, err)
	requireAuthorizations(t, c, 2)
	if got := c.claims(t)["scope"]; got != "files:read" {
		t.Errorf("token after refused step-up has scope %v, want files:read", got)
	}
	if names := toolNames(t, cs); slices.Contains(names, demoupstream.AdminTool) {
		t.Errorf("tools/list after refused step-up = %v, want no %s", names, demoupstream.AdminTool)
	}
	echo(t, cs, "still here")
	mark := c.rec.mark()
	res, err = callAdmin(cs)
	requireInsufficientScope(t, res, err)
	requireHops(t, c.rec, mark, append(f.stepUpHops(), mcpHop(adminCall, 403))...)
	requireAuthorizations(t, c, 3)
}

func requireInsufficientScope(t *testing.T, res *mcp.CallToolResult, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "insufficient scope") {
		t.Fatalf("%s = %+v, %v: want the insufficient scope error", demoupstream.AdminTool, res, err)
	}
	if errors.Is(err, errTooManyAuthorizations) {
		t.Fatalf("the client ran out of authorizations: %v", err)
	}
}

// requireAuthorizations fails unless the user was asked n times, every
// step-up for the union of the granted and the challenged scopes.
func requireAuthorizations(t *testing.T, c *client, n int) {
	t.Helper()
	asked := c.ua.authorizations()
	if len(asked) != n {
		t.Fatalf("%d authorizations, want %d: %+v", len(asked), n, asked)
	}
	for _, a := range asked[1:] {
		if !sameScopes(a.Scope, "files:read "+adminScope) {
			t.Errorf("step-up asked for scope %q, want files:read %s", a.Scope, adminScope)
		}
	}
}

func sameScopes(got any, want string) bool {
	s, _ := got.(string)
	a, b := strings.Fields(s), strings.Fields(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
