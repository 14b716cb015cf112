package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// stdioServerEnv makes this test binary a go-sdk stdio MCP server: the
// gateway passes it through the upstream's env, the only way it reaches
// the child (SPEC PX-11).
const stdioServerEnv = "MCPGATE_E2E_STDIO_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(stdioServerEnv) != "" {
		runStdioServer()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runStdioServer() {
	srv := mcp.NewServer(&mcp.Implementation{Name: "e2e-stdio", Version: "1"}, nil)
	text := func(s string) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "env"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return text(strings.Join(os.Environ(), "\n")), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "pid"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return text(strconv.Itoa(os.Getpid())), nil, nil
	})
	srv.Run(context.Background(), &mcp.StdioTransport{})
}

func callText(t *testing.T, cs *mcp.ClientSession, tool string) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool})
	if err != nil || res.IsError || len(res.Content) != 1 {
		t.Fatalf("%s: %+v, %v", tool, res, err)
	}
	return res.Content[0].(*mcp.TextContent).Text
}

// TestStdioUpstreamThroughGateway: a go-sdk stdio server launched by the
// gateway serves two users at once, each in their own process; neither
// child sees the gateway's environment (a secret in it), only its
// configured env plus PATH and HOME; and no child survives the gateway's
// shutdown.
func TestStdioUpstreamThroughGateway(t *testing.T) {
	t.Setenv("MCPGATE_TEST_GATEWAY_SECRET", "hunter2")
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		c.Upstreams[0].URL = ""
		c.Upstreams[0].Command = []string{os.Args[0]}
		c.Upstreams[0].Env = map[string]string{stdioServerEnv: "1", "GREETING": "hello"}
	}})
	users := []string{testenv.Alice, testenv.Bob}
	tokens := map[string]string{}
	for _, u := range users {
		_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, u)
		tokens[u] = rep.Get("access_token")
	}

	pids := map[string]int{}
	envs := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			client := mcp.NewClient(&mcp.Implementation{Name: "e2e-" + u, Version: "1"}, nil)
			cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
				Endpoint:   g.URL + testenv.FilesPath,
				HTTPClient: &http.Client{Transport: testenv.BearerTransport(tokens[u], g.Client().Transport)},
			}, nil)
			if err != nil {
				t.Errorf("%s: connect: %v", u, err)
				return
			}
			defer cs.Close()
			pid, err := strconv.Atoi(callText(t, cs, "pid"))
			if err != nil {
				t.Errorf("%s: pid: %v", u, err)
			}
			env := callText(t, cs, "env")
			mu.Lock()
			pids[u], envs[u] = pid, env
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if pids[testenv.Alice] == pids[testenv.Bob] || pids[testenv.Alice] == os.Getpid() {
		t.Errorf("pids = %v: want one process per user, none of them the gateway", pids)
	}
	for u, env := range envs {
		var names []string
		for kv := range strings.Lines(env) {
			name, _, _ := strings.Cut(strings.TrimSpace(kv), "=")
			names = append(names, name)
		}
		slices.Sort(names)
		if strings.Contains(env, "hunter2") || !slices.Equal(names, []string{"GREETING", "HOME", stdioServerEnv, "PATH"}) {
			t.Errorf("%s: child environment %v: want exactly GREETING, HOME, %s, PATH and no gateway secret", u, names, stdioServerEnv)
		}
	}

	// A go-sdk client's Close ended each session (DELETE); start one more
	// and leave it open, so shutdown has a live child to stop.
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-left-open", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint:   g.URL + testenv.FilesPath,
		HTTPClient: &http.Client{Transport: testenv.BearerTransport(tokens[testenv.Alice], g.Client().Transport)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	open, _ := strconv.Atoi(callText(t, cs, "pid"))
	if !alive(open) {
		t.Fatalf("the open session's child %d is not running", open)
	}
	g.Close()
	for _, pid := range []int{pids[testenv.Alice], pids[testenv.Bob], open} {
		if alive(pid) {
			t.Errorf("child %d survived the gateway's shutdown", pid)
		}
	}
}

// alive reports whether pid is a live process (a zombie counts as gone:
// it has exited and only waits to be reaped).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b))
	return len(fields) < 3 || fields[2] != "Z"
}
