package demoupstream

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"
)

// fixedNow is the clock every test server reads, so current_time is exact.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// TestMain checks that closing sessions and servers ends every goroutine,
// including the standalone GET streams of the stateful sessions.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestSession serves h with httptest and connects the real go-sdk client to it,
// adding header to every HTTP request it sends, as the gateway would.
func newTestSession(t *testing.T, h http.Handler, header http.Header) *mcp.ClientSession {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	transport := &mcp.StreamableClientTransport{
		Endpoint:   srv.URL,
		HTTPClient: &http.Client{Transport: headerTransport{header: header, next: http.DefaultTransport}},
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "demoupstream-test", Version: "0"}, nil)
	cs, err := client.Connect(context.Background(), transport, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() }) // runs before srv.Close: cleanups are LIFO.
	return cs
}

// headerTransport adds fixed headers to each request, like the gateway's identity headers.
type headerTransport struct {
	header http.Header
	next   http.RoundTripper
}

func (ht headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for name, values := range ht.header {
		r.Header[name] = values
	}
	return ht.next.RoundTrip(r)
}

// callTool calls a tool that must succeed and decodes its structured output into T.
func callTool[T any](t *testing.T, cs *mcp.ClientSession, name string, args any) T {
	t.Helper()
	res := callToolResult(t, cs, name, args)
	if res.IsError {
		t.Fatalf("%s: IsError, content %v", name, textOf(res))
	}
	var out T
	b, err := json.Marshal(res.StructuredContent)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		t.Fatalf("%s: decoding structured content %s: %v", name, b, err)
	}
	return out
}

// callToolResult calls a tool and fails the test only on a protocol error.
func callToolResult(t *testing.T, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	return res
}

// textOf returns the text of a result's first content block.
func textOf(res *mcp.CallToolResult) string {
	if len(res.Content) == 0 {
		return ""
	}
	if tc, ok := res.Content[0].(*mcp.TextContent); ok {
		return tc.Text
	}
	return ""
}
