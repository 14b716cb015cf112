package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain lets a test re-execute this test binary as the real mcpgate
// process (MCPGATE_TEST_MAIN=1), so signals and exit codes are real.
func TestMain(m *testing.M) {
	if os.Getenv("MCPGATE_TEST_MAIN") == "1" {
		os.Args = append([]string{"mcpgate"}, strings.Fields(os.Getenv("MCPGATE_TEST_ARGS"))...)
		main()
		return
	}
	os.Exit(m.Run())
}

// lockedBuffer is an io.Writer safe for the server's goroutines and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testEnv(vars map[string]string) (*cliEnv, *lockedBuffer, *lockedBuffer) {
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	return &cliEnv{
		stdout: out,
		stderr: errOut,
		lookupEnv: func(k string) (string, bool) {
			v, ok := vars[k]
			return v, ok
		},
	}, out, errOut
}

// getStatus GETs url with a client that keeps no idle connections, so no
// transport goroutine outlives the call.
func getStatus(t *testing.T, url string) int {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestDemoLifecycleInProcess starts the demo, checks health, readiness and
// the SQLite file, cancels (what SIGINT does in main) and requires exit 0
// within 5 s with no goroutine left behind.
func TestDemoLifecycleInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env, out, errOut := testEnv(nil)
	urlc := make(chan string, 1)
	env.ready = func(u string) { urlc <- u }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, []string{"demo", "--addr", "127.0.0.1:0", "--data", dir}) }()

	var url string
	select {
	case url = <-urlc:
	case code := <-done:
		t.Fatalf("demo exited early with %d: %s", code, errOut)
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not start within 30 s")
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if got := getStatus(t, url+p); got != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", p, got)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "mcpgate.db")); err != nil {
		t.Errorf("demo did not create its SQLite database: %v", err)
	}
	if !strings.Contains(out.String(), url) {
		t.Errorf("demo did not print its URL %s; stdout:\n%s", url, out)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("demo exit code = %d, want 0; stderr:\n%s", code, errOut)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("demo did not exit within 5 s of cancellation")
	}
	goleak.VerifyNone(t)
}

// TestDemoProcessExitsOnSignal runs the demo as a real process, sends it
// SIGINT (Ctrl-C) or SIGTERM (what service managers send) and requires
// exit status 0 within 5 s.
func TestDemoProcessExitsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { demoProcessExitsOn(t, sig) })
	}
}

func demoProcessExitsOn(t *testing.T, sig syscall.Signal) {
	dir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "MCPGATE_TEST_MAIN=1",
		"MCPGATE_TEST_ARGS=demo --addr 127.0.0.1:0 --data "+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	url := waitForURL(t, stdout)
	go io.Copy(io.Discard, stdout)
	for _, p := range []string{"/healthz", "/readyz"} {
		if got := getStatus(t, url+p); got != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", p, got)
		}
	}

	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("demo exited with %v after %v, want status 0; stderr:\n%s", err, sig, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("demo did not exit within 5 s of %v", sig)
	}
	if !strings.Contains(stderr.String(), "mcpgate stopped") {
		t.Errorf("no graceful-shutdown log line; stderr:\n%s", stderr.String())
	}
}

// waitForURL reads the demo's banner until it names its URL.
func waitForURL(t *testing.T, r io.Reader) string {
	t.Helper()
	const prefix = "mcpgate demo is running at "
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				lines <- u
				return
			}
		}
	}()
	select {
	case u, ok := <-lines:
		if !ok {
			t.Fatal("demo exited before printing its URL")
		}
		return u
	case <-time.After(60 * time.Second):
		t.Fatal("demo did not print its URL within 60 s")
	}
	return ""
}
