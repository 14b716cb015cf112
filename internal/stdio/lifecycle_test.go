package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DELETE ends the session's child; the ID then answers 404. A POST with no
// session ID that is not an initialize is refused.
func TestDeleteAndUnknownSessions(t *testing.T) {
	u := newUpstream(t, "sdk", nil)
	cs := u.connect(t, nil, true)
	pid := callText(t, cs, "pid", nil)
	id := cs.ID()
	if err := cs.Close(); err != nil { // sends DELETE
		t.Fatal(err)
	}
	waitFor(t, "the child to be reaped", func() bool { return u.bridge.Processes() == 0 })
	assertDead(t, pid)

	call := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	ctx := context.Background()
	if resp := u.do(t, ctx, "POST", id, call); resp.StatusCode != 404 {
		t.Fatalf("POST to a deleted session: %s %s", resp.Status, body(t, resp))
	} else {
		resp.Body.Close()
	}
	if resp := u.do(t, ctx, "POST", "no-such-session", call); resp.StatusCode != 404 {
		t.Fatalf("POST to an unknown session: %s", resp.Status)
	} else {
		resp.Body.Close()
	}
	for _, m := range []string{"GET", "DELETE"} {
		if resp := u.do(t, ctx, m, "no-such-session", ""); resp.StatusCode != 404 {
			t.Fatalf("%s of an unknown session: %s", m, resp.Status)
		} else {
			resp.Body.Close()
		}
	}
	resp := u.do(t, ctx, "POST", "", call)
	got := body(t, resp)
	if resp.StatusCode != 400 || !strings.Contains(got, `"code":-32600`) {
		t.Fatalf("POST without session, not initialize: %s %s", resp.Status, got)
	}
	if n := u.bridge.Processes(); n != 0 {
		t.Fatalf("a refused POST started a process: Processes() = %d", n)
	}
}

func TestMaxProcesses(t *testing.T) {
	u := newUpstream(t, "sdk", func(o *Options) { o.MaxProcesses = 1 })
	u.connect(t, nil, true)
	resp := u.do(t, context.Background(), "POST", "", rawInit)
	got := body(t, resp)
	if resp.StatusCode != 503 {
		t.Fatalf("second initialize: %s %s", resp.Status, got)
	}
	var e struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(got), &e); err != nil {
		t.Fatalf("503 body %q: %v", got, err)
	}
	if e.JSONRPC != "2.0" || string(e.ID) != `"init"` || e.Error.Code != -32000 || e.Error.Message == "" {
		t.Fatalf("503 body = %s", got)
	}
	if strings.Contains(got, os.Args[0]) || resp.Header.Get(headerSession) != "" {
		t.Fatalf("503 leaks the command or a session: %s", got)
	}
	if n := u.bridge.Processes(); n != 1 {
		t.Fatalf("Processes() = %d, want 1", n)
	}
}

func TestIdleTimeoutReapsProcess(t *testing.T) {
	u := newUpstream(t, "sdk", func(o *Options) { o.IdleTimeout = 200 * time.Millisecond })
	cs := u.connect(t, nil, false)
	pid := callText(t, cs, "pid", nil)
	waitFor(t, "the idle child to be reaped", func() bool { return u.bridge.Processes() == 0 })
	assertDead(t, pid)
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "pid"})
	if !errors.Is(err, mcp.ErrSessionMissing) {
		t.Fatalf("call after idle timeout: %v, want ErrSessionMissing (a 404)", err)
	}
	u.logs.await(t, "idle exit logged", func(r logRecord) bool {
		return r.msg == "stdio child exited" && r.attrs["reason"] == reasonIdle && r.attrs["status"] != ""
	})
}

// An open stream holds the session: the idle clock runs only when nothing
// is open.
func TestOpenStreamIsNotIdle(t *testing.T) {
	u := newUpstream(t, "raw", func(o *Options) { o.IdleTimeout = 50 * time.Millisecond })
	id := u.initRaw(t)
	resp := u.do(t, context.Background(), "POST", id, `{"jsonrpc":"2.0","id":1,"method":"hold"}`)
	defer resp.Body.Close()
	s := onlySession(t, u.bridge)
	// Five idle timeouts with the stream open: the timer must not end it.
	for range 5 {
		s.mu.Lock()
		s.idleSince = time.Now().Add(-time.Hour)
		s.mu.Unlock()
		s.onIdle()
	}
	if u.bridge.Processes() != 1 || s.closedLocked() {
		t.Fatal("a session with an open stream was ended as idle")
	}
	u.do(t, context.Background(), "POST", id, `{"jsonrpc":"2.0","method":"release"}`).Body.Close()
	if evs := readEvents(t, resp.Body); len(evs) != 1 || !strings.Contains(evs[0], "released") {
		t.Fatalf("events %q", evs)
	}
	resp.Body.Close()
	waitFor(t, "the idle child to be reaped", func() bool { return u.bridge.Processes() == 0 })
}

// Close kills the whole process group, grandchildren included, even when
// every process in it ignores SIGTERM, and returns in bounded time.
func TestCloseLeavesNoOrphans(t *testing.T) {
	for _, mode := range []string{"sdk", "stubborn"} {
		t.Run(mode, func(t *testing.T) {
			u := newUpstream(t, mode, func(o *Options) { o.TerminateGrace = 300 * time.Millisecond })
			cs := u.connect(t, nil, false)
			pid := callText(t, cs, "pid", nil)
			grandchild := callText(t, cs, "spawn", nil)
			start := time.Now()
			closeWithin(t, u.bridge, 10*time.Second)
			t.Logf("Close took %v", time.Since(start))
			assertDead(t, pid)
			waitFor(t, "grandchild "+grandchild+" to die", func() bool { return gone(t, grandchild) })
			if n := u.bridge.Processes(); n != 0 {
				t.Fatalf("Processes() = %d after Close", n)
			}
			for _, session := range []string{"", cs.ID()} {
				resp := u.do(t, context.Background(), "POST", session, rawInit)
				if got := body(t, resp); resp.StatusCode != 503 || !strings.Contains(got, `"code":-32000`) {
					t.Fatalf("POST after Close (session %q): %s %s", session, resp.Status, got)
				}
			}
		})
	}
}

// Termination closes stdin, the MCP stdio transport's shutdown signal: a
// child that ignores SIGTERM but stops at EOF is gone long before the
// grace period would SIGKILL it.
func TestCloseEndsStdin(t *testing.T) {
	u := newUpstream(t, "noterm", func(o *Options) { o.TerminateGrace = time.Hour })
	cs := u.connect(t, nil, false)
	pid := callText(t, cs, "pid", nil)
	closeWithin(t, u.bridge, 10*time.Second)
	assertDead(t, pid)
	u.logs.await(t, "the child's own shutdown", func(r logRecord) bool {
		return r.msg == "stdio child stderr" && strings.HasPrefix(r.attrs["line"], "test server stopped")
	})
}

// A child that exits leaves no orphan either: what it started in its group
// is killed with it, even if it ignores SIGTERM.
func TestChildExitKillsItsGroup(t *testing.T) {
	u := newUpstream(t, "stubborn", func(o *Options) { o.TerminateGrace = time.Hour })
	cs := u.connect(t, nil, false)
	pid := callText(t, cs, "pid", nil)
	grandchild := callText(t, cs, "spawn", nil)
	p, _ := strconv.Atoi(pid)
	// The child dies on its own (not through the bridge, whose SIGKILL
	// would come only after the hour's grace).
	if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child to be reaped", func() bool { return u.bridge.Processes() == 0 })
	waitFor(t, "grandchild "+grandchild+" to die", func() bool { return gone(t, grandchild) })
	u.logs.await(t, "unexpected exit logged with status", func(r logRecord) bool {
		return r.msg == "stdio child exited" && r.attrs["status"] == "signal: killed"
	})
}

// assertDead checks that pid, a reaped child of this process, is gone.
func assertDead(t *testing.T, pid string) {
	t.Helper()
	if !gone(t, pid) {
		t.Fatalf("process %s is still alive", pid)
	}
}

// gone reports whether pid no longer runs: no such process, or a zombie
// waiting for a reaper (in a container, PID 1 may never reap an orphan).
func gone(t *testing.T, pid string) bool {
	t.Helper()
	p, err := strconv.Atoi(pid)
	if err != nil {
		t.Fatalf("pid %q: %v", pid, err)
	}
	if err := syscall.Kill(p, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// Field 3, after the parenthesized command name, is the state.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && len(stat) > i+2 && stat[i+2] == 'Z'
}
