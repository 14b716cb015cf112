package stdio

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"
)

// The test binary is its own stdio upstream: run with
// MCPGATE_STDIO_TEST_SERVER set (through Options.Env, the only way it
// reaches the child), it serves MCP on stdin/stdout instead of testing.
//
//	sdk       a go-sdk server with the tools below
//	noterm    the same, but it ignores SIGTERM: only EOF on stdin stops it
//	stubborn  it ignores SIGTERM and stays up after stdin ends, so only
//	          SIGKILL stops it
//	raw       a hand-written line server for what go-sdk will not do
const serverEnv = "MCPGATE_STDIO_TEST_SERVER"

func TestMain(m *testing.M) {
	switch os.Getenv(serverEnv) {
	case "":
		goleak.VerifyTestMain(m)
	case "sdk", "noterm", "stubborn":
		runSDKServer(os.Getenv(serverEnv))
	case "raw":
		runRawServer()
	}
	os.Exit(0)
}

type textIn struct {
	Text string `json:"text"`
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

func runSDKServer(mode string) {
	if mode != "sdk" {
		// Inherited by the grandchild spawn starts: it ignores SIGTERM too.
		signal.Ignore(syscall.SIGTERM)
	}
	fmt.Fprintln(os.Stderr, "test server starting")
	srv := mcp.NewServer(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
		return text(in.Text), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "env"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return text(strings.Join(os.Environ(), "\n")), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "pid"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return text(strconv.Itoa(os.Getpid())), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "progress"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
			ProgressToken: req.Params.GetProgressToken(), Progress: 1, Total: 2, Message: "halfway",
		})
		return text("done"), nil, err
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "stderr"}, func(_ context.Context, _ *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
		fmt.Fprintln(os.Stderr, in.Text)
		return text("logged"), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "block"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		// A hung tool: it ignores cancellation and never answers, so only
		// the client going away can end its POST stream.
		fmt.Fprintln(os.Stderr, "blocking")
		select {}
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "spawn"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		// A grandchild in the child's process group, as npx starts node.
		cmd := exec.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		return text(strconv.Itoa(cmd.Process.Pid)), nil, nil
	})
	err := srv.Run(context.Background(), &mcp.StdioTransport{})
	fmt.Fprintln(os.Stderr, "test server stopped:", err)
	if mode == "stubborn" {
		select {} // stdin is gone; stay until SIGKILL
	}
}

// runRawServer answers one JSON-RPC message per line by its method:
//
//	initialize, echo         a result (echo's is its params)
//	notify_then_reply        a notifications/message, then the result
//	progress                 a notifications/progress with the request's token, then the result
//	hold                     nothing until a "release" notification
//	junk_then_reply          a line that is not JSON, then the result
//	crlf                     a result with bare CRs between tokens, ending in CRLF
//	batch                    two responses in one JSON array: this id and id+"-b"
//	big                      a stdout line of params.n bytes
//	exit                     exits with status 3
//	poke (notification)      a notifications/message, unprompted by any request
func runRawServer() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, 16<<20)
	out := bufio.NewWriter(os.Stdout)
	write := func(v any) {
		b, _ := json.Marshal(v)
		out.Write(append(b, '\n'))
		out.Flush()
	}
	result := func(id json.RawMessage, r any) map[string]any {
		return map[string]any{"jsonrpc": "2.0", "id": id, "result": r}
	}
	note := func(data string) map[string]any {
		return map[string]any{"jsonrpc": "2.0", "method": "notifications/message", "params": map[string]any{"level": "info", "data": data}}
	}
	var held []json.RawMessage
	for in.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if json.Unmarshal(in.Bytes(), &m) != nil {
			continue
		}
		switch m.Method {
		case "initialize":
			write(result(m.ID, map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "serverInfo": map[string]any{"name": "raw", "version": "1"}}))
		case "echo":
			write(result(m.ID, m.Params))
		case "notify_then_reply":
			write(note("before reply"))
			write(result(m.ID, "replied"))
		case "progress":
			var p struct {
				Meta struct {
					ProgressToken json.RawMessage `json:"progressToken"`
				} `json:"_meta"`
			}
			json.Unmarshal(m.Params, &p)
			write(map[string]any{"jsonrpc": "2.0", "method": "notifications/progress", "params": map[string]any{"progressToken": p.Meta.ProgressToken, "progress": 1}})
			write(result(m.ID, "progressed"))
		case "hold":
			held = append(held, m.ID)
		case "release":
			for _, id := range held {
				write(result(id, "released"))
			}
			held = nil
		case "junk_then_reply":
			out.WriteString("this is not JSON\n")
			write(result(m.ID, "after junk"))
		case "crlf":
			// Bare CRs as whitespace between tokens keep the line one line
			// for stdio, but would split an SSE data field.
			fmt.Fprintf(out, "{\"jsonrpc\":\"2.0\",\r\"id\":%s,\r\"result\":\"a\\r\\nb\"}\r\n", m.ID)
			out.Flush()
		case "batch":
			var id string
			json.Unmarshal(m.ID, &id)
			write([]any{result(m.ID, "one"), result(json.RawMessage(strconv.Quote(id+"-b")), "two")})
		case "big":
			var p struct{ N int }
			json.Unmarshal(m.Params, &p)
			out.WriteString(strings.Repeat("x", p.N) + "\n")
			out.Flush()
		case "exit":
			os.Exit(3)
		case "poke":
			write(note("poked"))
		}
	}
}
