package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

const testSealKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// syncBuffer collects log or audit output written from server goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is a valid loopback configuration on the memory store.
func testConfig() *config.Config {
	cfg := config.Default()
	cfg.PublicURL = "http://127.0.0.1:8080"
	cfg.Storage = config.Storage{Driver: "memory"}
	cfg.Secrets = config.Secrets{Keys: []config.SealKey{{ID: "k1", Value: testSealKey}}, Active: "k1"}
	return cfg
}

type testServer struct {
	*Server
	http *httptest.Server
	logs *syncBuffer
}

// newTestServer builds the real server on the memory store behind httptest;
// mutate adjusts the configuration first.
func newTestServer(t *testing.T, mutate func(*config.Config)) *testServer {
	t.Helper()
	cfg := testConfig()
	if mutate != nil {
		mutate(cfg)
	}
	logs := &syncBuffer{}
	s, err := New(context.Background(), cfg, Options{Version: "test", LogOutput: logs, AuditStdout: io.Discard})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return &testServer{Server: s, http: ts, logs: logs}
}

func (ts *testServer) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := ts.http.Client().Get(ts.http.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func decodeJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, body)
	}
}
