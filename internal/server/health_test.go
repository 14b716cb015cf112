package server

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

func TestHealthz(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, body := ts.get(t, "/healthz")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	var h healthBody
	decodeJSON(t, body, &h)
	if h.Status != "ok" {
		t.Errorf("status field = %q", h.Status)
	}
}

func TestReadyzChecksStore(t *testing.T) {
	ts := newTestServer(t, func(c *config.Config) {
		c.Storage = config.Storage{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "ready.db")}
	})
	resp, body := ts.get(t, "/readyz")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ready: status = %d: %s", resp.StatusCode, body)
	}

	// A store that can no longer answer makes the gateway unready, and the
	// probe says which check failed without the internal error text.
	if err := ts.Store().Close(); err != nil {
		t.Fatal(err)
	}
	resp, body = ts.get(t, "/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("closed store: status = %d, want 503", resp.StatusCode)
	}
	var h healthBody
	decodeJSON(t, body, &h)
	if h.Status != "unavailable" || h.Checks["storage"] != "unavailable" {
		t.Errorf("body = %s", body)
	}
	if ts.logs.String() == "" {
		t.Error("the readiness failure was not logged")
	}
}

func TestStoreCloseIsIdempotentThroughServer(t *testing.T) {
	ts := newTestServer(t, nil)
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ts.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
