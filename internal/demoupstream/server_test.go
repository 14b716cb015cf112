package demoupstream

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestInitialize(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	init := cs.InitializeResult()
	if init.ServerInfo.Name != Name || init.ServerInfo.Version != Version {
		t.Errorf("server info = %s %s, want %s %s", init.ServerInfo.Name, init.ServerInfo.Version, Name, Version)
	}
	if !strings.Contains(init.Instructions, "mcpgate demo upstream") {
		t.Errorf("instructions %q do not say what the server is", init.Instructions)
	}
	if cs.ID() == "" {
		t.Error("no Mcp-Session-Id: the handler must be stateful")
	}
}

func TestListTools(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tool := range res.Tools {
		got = append(got, tool.Name)
		if tool.InputSchema == nil || tool.OutputSchema == nil {
			t.Errorf("%s: missing input or output schema", tool.Name)
		}
	}
	if !slices.Equal(got, Tools()) {
		t.Errorf("tools/list = %v, Tools() = %v", got, Tools())
	}
	if !slices.Contains(got, AdminTool) {
		t.Errorf("AdminTool %q is not served", AdminTool)
	}
}

func TestToolsReturnsACopy(t *testing.T) {
	Tools()[0] = "changed"
	if Tools()[0] == "changed" {
		t.Error("Tools() exposes its backing array")
	}
}

func TestReadme(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	list, err := cs.ListResources(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Resources) != 1 || list.Resources[0].URI != ReadmeURI {
		t.Fatalf("resources/list = %v, want only %s", list.Resources, ReadmeURI)
	}
	res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: ReadmeURI})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Contents) != 1 || !strings.Contains(res.Contents[0].Text, AdminTool) {
		t.Errorf("readme contents = %v, want text naming %s", res.Contents, AdminTool)
	}
}

func TestGreeting(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	list, err := cs.ListPrompts(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Prompts) != 1 || list.Prompts[0].Name != GreetingPrompt {
		t.Fatalf("prompts/list = %v, want only %s", list.Prompts, GreetingPrompt)
	}
	res, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{
		Name: GreetingPrompt, Arguments: map[string]string{"name": "Ada"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tc, ok := res.Messages[0].Content.(*mcp.TextContent); !ok || !strings.Contains(tc.Text, "Ada") {
		t.Errorf("greeting message = %#v, want text naming Ada", res.Messages[0].Content)
	}
}

func TestGreetingWithoutName(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	_, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: GreetingPrompt})
	if err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("err = %v, want an invalid-params error about name", err)
	}
}
