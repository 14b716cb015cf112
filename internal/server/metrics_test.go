package server

import (
	"net/http"
	"strings"
	"testing"
)

func TestMetricsEndpointCountsRequests(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.get(t, "/healthz")
	ts.get(t, "/healthz")
	resp, body := ts.get(t, "/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	want := `mcpgate_http_requests_total{code="200",route="healthz"} 2`
	if !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %q:\n%s", want, body)
	}
}
