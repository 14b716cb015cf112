package e2e

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/server"
)

// TestDemoWithGoSDKClient runs what `mcpgate demo` runs (the gateway on
// embedded SQLite, the built-in upstream, the demo user with its printed
// password) and drives it with the go-sdk's OAuth MCP client as a user
// pasting the printed URL would: discovery, registration, login as demo,
// tools/list, a tool call that shows the identity headers, and the
// admin tool's step-up to demo:admin.
func TestDemoWithGoSDKClient(t *testing.T) {
	upURL, stopUp, err := server.StartDemoUpstream()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopUp)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := server.NewDemo(t.TempDir(), ln, upURL)
	if err != nil {
		t.Fatal(err)
	}
	d.Config.Logging.Level = "error"
	s, err := server.New(context.Background(), d.Config, server.Options{LogOutput: t.Output(), AuditStdout: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the demo did not stop within 10 s")
		}
	})

	jar, _ := cookiejar.New(nil)
	ua := &userAgent{base: d.Config.PublicURL, username: server.DemoUser, password: d.Password, budget: 2, browser: &http.Client{
		Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	cfg := &auth.AuthorizationCodeHandlerConfig{
		RedirectURL: redirectURL, AuthorizationCodeFetcher: ua.fetch, Client: http.DefaultClient,
	}
	dcr(cfg)
	h, err := auth.NewAuthorizationCodeHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	connect := func() *mcp.ClientSession {
		t.Helper()
		mc := mcp.NewClient(&mcp.Implementation{Name: "demo-e2e", Version: "1"}, nil)
		cs, err := mc.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: d.MCPURL, OAuthHandler: h}, nil)
		if err != nil {
			t.Fatalf("connect to %s: %v", d.MCPURL, err)
		}
		t.Cleanup(func() { cs.Close() })
		return cs
	}
	cs := connect()
	if names := toolNames(t, cs); !slices.Equal(names, []string{"add", "current_time", "echo", "whoami"}) {
		t.Errorf("tools/list = %v, want the four tools demo:read allows", names)
	}
	echo(t, cs, "hello demo")
	who, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || who.IsError {
		t.Fatalf("whoami: %+v, %v", who, err)
	}
	if text := who.Content[0].(*mcp.TextContent).Text; !strings.Contains(text, "local:"+server.DemoUser) {
		t.Errorf("whoami = %q, want the subject local:%s sent by the gateway", text, server.DemoUser)
	}

	// The admin tool: 403 insufficient_scope, one more authorization for
	// demo:admin. go-sdk's DCR registers a new client for it, so the old
	// MCP session (bound to the first client) is gone: reconnect.
	_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: demoupstream.AdminTool})
	requireSessionLost(t, err)
	asked := ua.authorizations()
	if len(asked) != 2 || !sameScopes(asked[1].Scope, server.DemoScope+" "+server.DemoAdminScope) {
		t.Fatalf("authorizations = %+v, want a second one for %s %s", asked, server.DemoScope, server.DemoAdminScope)
	}
	cs = connect()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: demoupstream.AdminTool})
	if err != nil || res.IsError {
		t.Fatalf("%s after step-up: %+v, %v", demoupstream.AdminTool, res, err)
	}
	if names := toolNames(t, cs); !slices.Contains(names, demoupstream.AdminTool) {
		t.Errorf("tools/list after step-up = %v, want %s too", names, demoupstream.AdminTool)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
