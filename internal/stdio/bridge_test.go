package stdio

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestSDKClientListsAndCallsTools(t *testing.T) {
	u := newUpstream(t, "sdk", nil)
	cs := u.connect(t, nil, true)
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	if !slices.Contains(names, "echo") || !slices.Contains(names, "pid") {
		t.Fatalf("tools = %v", names)
	}
	if got := callText(t, cs, "echo", map[string]any{"text": "hello\nthere"}); got != "hello\nthere" {
		t.Fatalf("echo = %q", got)
	}
	if n := u.bridge.Processes(); n != 1 {
		t.Fatalf("Processes() = %d, want 1", n)
	}
}

// A child sees its configured env, PATH and HOME, and nothing else of the
// gateway's environment, which holds the gateway's secrets.
func TestChildEnvironmentIsOnlyConfigured(t *testing.T) {
	t.Setenv("MCPGATE_TEST_SECRET", "hunter2")
	t.Setenv("HOME", "/home/gateway")
	u := newUpstream(t, "sdk", func(o *Options) { o.Env["GITHUB_TOKEN"] = "for-the-child" })
	cs := u.connect(t, nil, false)
	got := strings.Split(callText(t, cs, "env", nil), "\n")
	slices.Sort(got)
	want := []string{
		"GITHUB_TOKEN=for-the-child",
		"HOME=/home/gateway",
		serverEnv + "=sdk",
		"PATH=" + os.Getenv("PATH"),
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("child env = %q, want %q", got, want)
	}
}

// One process per MCP session: two clients never share a child.
func TestEachSessionGetsItsOwnProcess(t *testing.T) {
	u := newUpstream(t, "sdk", nil)
	a := u.connect(t, nil, true)
	b := u.connect(t, nil, true)
	pa, pb := callText(t, a, "pid", nil), callText(t, b, "pid", nil)
	if pa == pb {
		t.Fatalf("both sessions served by pid %s", pa)
	}
	if pa2 := callText(t, a, "pid", nil); pa2 != pa {
		t.Fatalf("session a moved from pid %s to %s", pa, pa2)
	}
	if n := u.bridge.Processes(); n != 2 {
		t.Fatalf("Processes() = %d, want 2", n)
	}
}

// A notification the child sends while answering reaches the client on the
// POST's own stream, the only stream a client without a GET stream has.
func TestProgressReachesPostStream(t *testing.T) {
	u := newUpstream(t, "sdk", nil)
	got := make(chan string, 1)
	cs := u.connect(t, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			got <- req.Params.Message
		},
	}, false)
	params := &mcp.CallToolParams{Name: "progress"}
	params.SetProgressToken("tok-1")
	if _, err := cs.CallTool(context.Background(), params); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-got:
		if msg != "halfway" {
			t.Fatalf("progress message %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no progress notification reached the client")
	}
}

// Stderr lines reach the log, tagged with the upstream and session, and a
// long line is cut to the bound.
func TestStderrIsLogged(t *testing.T) {
	u := newUpstream(t, "sdk", nil)
	cs := u.connect(t, nil, false)
	rec := u.logs.await(t, "startup stderr line", func(r logRecord) bool {
		return r.msg == "stdio child stderr" && r.attrs["line"] == "test server starting"
	})
	if rec.attrs["upstream"] != "test-upstream" || rec.attrs["session"] == "" || rec.attrs["pid"] == "" {
		t.Fatalf("stderr record attrs = %v", rec.attrs)
	}
	if strings.Contains(rec.attrs["session"], cs.ID()) || len(rec.attrs["session"]) > 16 {
		t.Fatalf("log carries the session ID itself: %v", rec.attrs["session"])
	}
	long := strings.Repeat("y", 3*stderrLineBytes)
	callText(t, cs, "stderr", map[string]any{"text": long})
	rec = u.logs.await(t, "truncated stderr line", func(r logRecord) bool {
		return r.msg == "stdio child stderr" && strings.HasPrefix(r.attrs["line"], "yyy")
	})
	if len(rec.attrs["line"]) != stderrLineBytes || rec.attrs["truncated"] != "true" {
		t.Fatalf("long line logged with %d bytes, truncated=%s", len(rec.attrs["line"]), rec.attrs["truncated"])
	}
	// The rest of the long line is skipped, not logged as a line of its own.
	callText(t, cs, "stderr", map[string]any{"text": "after"})
	u.logs.await(t, "line after the long one", func(r logRecord) bool {
		return r.msg == "stdio child stderr" && r.attrs["line"] == "after"
	})
	u.logs.mu.Lock()
	defer u.logs.mu.Unlock()
	for _, r := range u.logs.records {
		if r.msg == "stdio child stderr" && strings.HasPrefix(r.attrs["line"], "y") && r.attrs["truncated"] != "true" {
			t.Fatalf("tail of a long line logged as a line: %d bytes", len(r.attrs["line"]))
		}
	}
}

// A client that gives up on a call to a hung tool gets its answer at once;
// the stream is released, the child lives on and serves the next call.
func TestClientDisconnectMidCall(t *testing.T) {
	u := newUpstream(t, "sdk", nil)
	cs := u.connect(t, nil, false)
	pid := callText(t, cs, "pid", nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "block"})
		errc <- err
	}()
	u.logs.await(t, "block tool running", func(r logRecord) bool { return r.attrs["line"] == "blocking" })
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("cancelled call returned no error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled call did not return")
	}
	s := onlySession(t, u.bridge)
	waitFor(t, "the POST stream to be released", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.active == 0 && len(s.posts) == 0 && len(s.pending) == 0
	})
	if got := callText(t, cs, "pid", nil); got != pid {
		t.Fatalf("pid after disconnect = %s, want %s", got, pid)
	}
}

func onlySession(t *testing.T, b *Bridge) *session {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.sessions) != 1 {
		t.Fatalf("%d sessions, want 1", len(b.sessions))
	}
	for _, s := range b.sessions {
		return s
	}
	return nil
}
