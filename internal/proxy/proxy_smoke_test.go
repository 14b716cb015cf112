package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// bearer adds a fixed Authorization header to every request.
// TestGoSDKClientThroughGateway: a real go-sdk client with a token lists
// and calls tools of a real go-sdk upstream through the gateway, and the
// per-tool rule hides the admin tool from a caller without its scope.
func TestGoSDKClientThroughGateway(t *testing.T) {
	up := httptest.NewServer(demoupstream.Handler())
	t.Cleanup(up.Close)
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		c.Upstreams[0].URL = up.URL
		c.Upstreams[0].Tools = []config.ToolRule{{Match: demoupstream.AdminTool, Scopes: []string{"files:write"}}}
	}})
	_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, testenv.Alice)
	tok := rep.Get("access_token")

	client := mcp.NewClient(&mcp.Implementation{Name: "smoke", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint:   g.URL + testenv.FilesPath,
		HTTPClient: &http.Client{Transport: testenv.BearerTransport(tok, http.DefaultTransport)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	if !slices.Contains(names, "echo") || slices.Contains(names, demoupstream.AdminTool) {
		t.Fatalf("tools/list = %v: want echo and not %s", names, demoupstream.AdminTool)
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "hi" {
		t.Fatalf("echo = %+v, %v", res, err)
	}
}
