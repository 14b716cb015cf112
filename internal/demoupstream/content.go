package demoupstream

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const readme = `# mcpgate demo upstream

This MCP server runs inside ` + "`mcpgate demo`" + `, behind the gateway. It has five tools
(add, current_time, echo, ` + AdminTool + `, whoami), this resource, and one prompt (greeting).

- whoami shows the identity headers the gateway sends to trusted upstreams.
- ` + AdminTool + ` needs the demo:admin scope: calling it without that scope makes the
  gateway answer insufficient_scope, and your client asks you to approve more access.
`

// addReadme adds the demo's one resource, so resources/list filtering can be seen.
func addReadme(s *mcp.Server) {
	s.AddResource(&mcp.Resource{
		URI:         ReadmeURI,
		Name:        "readme",
		Description: "What this demo server is and what to try.",
		MIMEType:    "text/markdown",
	}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{
			{URI: ReadmeURI, MIMEType: "text/markdown", Text: readme},
		}}, nil
	})
}

// addGreeting adds the demo's one prompt, so prompts/list filtering can be seen.
func addGreeting(s *mcp.Server) {
	s.AddPrompt(&mcp.Prompt{
		Name:        GreetingPrompt,
		Description: "Ask the model to greet someone.",
		Arguments:   []*mcp.PromptArgument{{Name: "name", Description: "who to greet", Required: true}},
	}, greeting)
}

func greeting(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	name := req.Params.Arguments["name"]
	if name == "" {
		// The SDK does not enforce Required arguments; a missing one is the caller's error.
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: `greeting needs a "name" argument`}
	}
	return &mcp.GetPromptResult{
		Description: "A greeting for " + name,
		Messages: []*mcp.PromptMessage{
			{Role: "user", Content: &mcp.TextContent{Text: "Please greet " + name + " warmly, in one sentence."}},
		},
	}, nil
}
