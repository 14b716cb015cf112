package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/testenv"
)

// The Node-based tests (the TypeScript SDK client, the MCP conformance
// suite) need Node 22 and the packages of testdata/node, pinned by its
// package-lock.json. .ci/run installs both (npm ci) and names the binary
// in nodeEnv; without it, go test ./... still passes and these tests skip.
const (
	nodeEnv     = "MCPGATE_TEST_NODE"
	nodeSkipMsg = nodeEnv + " not set (path to a Node >= 22 binary, with npm ci run in internal/e2e/testdata/node): Node-based e2e tests skipped"
)

// nodeDir is the npm project of the Node-based tests.
const nodeDir = "testdata/node"

// requireNode returns the Node binary, skipping the test when none is
// configured. A configured binary that is too old, or a project whose
// packages are missing, fails the test: CI meant to run it.
func requireNode(t *testing.T) string {
	t.Helper()
	node := os.Getenv(nodeEnv)
	if node == "" {
		t.Skip(nodeSkipMsg)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s=%s: %v", nodeEnv, node, err)
	}
	v := strings.TrimSpace(string(out))
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0])
	if major < 22 {
		t.Fatalf("%s=%s is Node %s, want >= 22", nodeEnv, node, v)
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "@modelcontextprotocol")); err != nil {
		t.Fatalf("the packages of %s are not installed (run npm ci there): %v", nodeDir, err)
	}
	return node
}

// nodeProc is a Node program of testdata/node that prints JSON lines.
type nodeProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *testenv.Buffer
}

// startNode runs node with args in testdata/node, its environment plus env.
// It is killed when ctx ends.
func startNode(t *testing.T, ctx context.Context, node string, env []string, args ...string) *nodeProc {
	t.Helper()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	p := &nodeProc{cmd: cmd, stderr: &testenv.Buffer{}}
	cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.lines = bufio.NewScanner(stdout)
	p.lines.Buffer(make([]byte, 64<<10), 4<<20)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// event is one JSON line of client.mjs.
type event map[string]any

func (e event) str(k string) string { s, _ := e[k].(string); return s }

// next returns the next JSON line, or nil at the end of the output.
func (p *nodeProc) next(t *testing.T) event {
	t.Helper()
	for p.lines.Scan() {
		var e event
		if err := json.Unmarshal(p.lines.Bytes(), &e); err != nil {
			t.Logf("node (not JSON): %s", p.lines.Text())
			continue
		}
		return e
	}
	return nil
}

// wait waits for the program to exit and returns its stderr and error.
func (p *nodeProc) wait() (string, error) {
	err := p.cmd.Wait()
	return p.stderr.String(), err
}
