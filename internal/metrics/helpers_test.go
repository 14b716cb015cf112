package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The tests read metrics back through the real /metrics handler and parse
// the exposition text, so they check what Prometheus would see.
// (prometheus/testutil would be shorter but imports a module go.mod does
// not list.)

// scrape GETs /metrics from r's handler and returns the body.
func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// families scrapes r and parses the result.
func families(t *testing.T, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(scrape(t, r)))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// series maps each series of the named family, keyed by its labels as
// `k=v,k=v` (sorted), to the metric.
func series(t *testing.T, r *Registry, name string) map[string]*dto.Metric {
	t.Helper()
	out := map[string]*dto.Metric{}
	f, ok := families(t, r)[name]
	if !ok {
		return out
	}
	for _, m := range f.GetMetric() {
		var kv []string
		for _, l := range m.GetLabel() {
			kv = append(kv, l.GetName()+"="+l.GetValue())
		}
		sort.Strings(kv)
		out[strings.Join(kv, ",")] = m
	}
	return out
}
