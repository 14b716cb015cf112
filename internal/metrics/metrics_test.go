package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHandlerExposesMetrics(t *testing.T) {
	r := New("v1.2.3")
	r.AuditEvent("token_issued")
	r.Instrument("healthz", http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	body := scrape(t, r)
	for _, want := range []string{
		"mcpgate_http_requests_total",
		"mcpgate_http_request_duration_seconds_bucket",
		`mcpgate_audit_events_total{type="token_issued"} 1`,
		`mcpgate_build_info{version="v1.2.3"} 1`,
		"go_goroutines",
		"process_", // process collector (where the OS supports it)
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestAuditEventCountsByType(t *testing.T) {
	r := New("test")
	r.AuditEvent("login_failed")
	r.AuditEvent("login_failed")
	r.AuditEvent("token_issued")
	got := series(t, r, "mcpgate_audit_events_total")
	if len(got) != 2 || got["type=login_failed"].GetCounter().GetValue() != 2 ||
		got["type=token_issued"].GetCounter().GetValue() != 1 {
		t.Fatalf("audit series %v", got)
	}
}

func TestBuildInfoUnknownVersion(t *testing.T) {
	if body := scrape(t, New("")); !strings.Contains(body, `mcpgate_build_info{version="unknown"} 1`) {
		t.Fatal("empty version not reported as unknown")
	}
}

// Two registries (two servers in one test binary) share nothing, and
// neither touches the global default registry.
func TestRegistriesIndependent(t *testing.T) {
	a, b := New("a"), New("b")
	a.AuditEvent("key_rotated")
	a.Instrument("token", http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if n := len(series(t, a, "mcpgate_audit_events_total")); n != 1 {
		t.Fatalf("a has %d audit series, want 1", n)
	}
	for _, name := range []string{"mcpgate_audit_events_total", "mcpgate_http_requests_total"} {
		if n := len(series(t, b, name)); n != 0 {
			t.Fatalf("b has %d %s series", n, name)
		}
	}
	// The same collector name registers in both without conflict.
	for _, r := range []*Registry{a, b} {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "mcpgate_tokens_issued_total", Help: "x"})
		if err := r.Registerer().Register(c); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(scrapeDefault(t), "mcpgate_") {
		t.Fatal("metrics leaked into prometheus.DefaultGatherer")
	}
}

func scrapeDefault(t *testing.T) string {
	t.Helper()
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fams {
		names = append(names, f.GetName())
	}
	return strings.Join(names, " ")
}
