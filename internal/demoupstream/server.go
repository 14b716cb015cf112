package demoupstream

import (
	"context"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// Name and Version identify the demo server in the MCP initialize result.
	Name    = "mcpgate-demo"
	Version = "1.0.0"

	// AdminTool is the one tool the demo config guards with the higher scope
	// (demo:admin), so calling it shows step-up (SPEC §3, `mcpgate demo`).
	AdminTool = "reset_counter"

	// ReadmeURI is the demo's one resource; GreetingPrompt is its one prompt.
	ReadmeURI      = "demo://readme"
	GreetingPrompt = "greeting"
)

// Identity headers the demo config tells the gateway to send, so whoami can show them.
const (
	SubjectHeader = "X-Mcpgate-Subject"
	EmailHeader   = "X-Mcpgate-Email"
	GroupsHeader  = "X-Mcpgate-Groups"
)

// tools are the tool names in the order tools/list serves them (the go-sdk sorts by name).
var tools = []string{"add", "current_time", "echo", AdminTool, "whoami"}

const instructions = `This is the mcpgate demo upstream: a harmless MCP server that ` +
	"`mcpgate demo` runs behind the gateway. Every tool is safe to call. " +
	"whoami shows the identity headers the gateway sent; " + AdminTool +
	" needs the demo:admin scope, so calling it shows the gateway asking for a step-up."

// Tools names the demo's tools in the order tools/list serves them.
func Tools() []string { return slices.Clone(tools) }

// Handler returns the demo MCP server's Streamable HTTP handler. Sessions are
// stateful, so the gateway's handling of GET streams and Mcp-Session-Id is exercised.
// One server backs every session: the call counter that AdminTool resets is shared.
func Handler() http.Handler { return handler(time.Now) }

func handler(now func() time.Time) http.Handler {
	s := newServer(now)
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
}

// demo holds the server's only state: the clock and the tool-call counter.
type demo struct {
	now   func() time.Time
	calls atomic.Int64
}

func newServer(now func() time.Time) *mcp.Server {
	d := &demo{now: now}
	s := mcp.NewServer(&mcp.Implementation{Name: Name, Title: "mcpgate demo", Version: Version},
		&mcp.ServerOptions{Instructions: instructions})
	s.AddReceivingMiddleware(d.countCalls)
	d.addTools(s)
	addReadme(s)
	addGreeting(s)
	return s
}

// countCalls counts every tools/call, whatever its outcome, before it runs.
func (d *demo) countCalls(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "tools/call" {
			d.calls.Add(1)
		}
		return next(ctx, method, req)
	}
}
