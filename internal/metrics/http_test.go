package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestInstrumentCountsByRouteAndCode(t *testing.T) {
	r := New("test")
	h := r.Instrument("token", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("bad") != "" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		w.Write([]byte("ok")) // implicit 200
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/token", "/token?bad=1", "/random/path/1", "/random/path/2"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	counts := series(t, r, "mcpgate_http_requests_total")
	want := map[string]float64{"code=200,route=token": 3, "code=400,route=token": 1}
	if len(counts) != len(want) {
		t.Fatalf("series %v, want %v", keys(counts), want)
	}
	for labels, n := range want {
		if got := counts[labels].GetCounter().GetValue(); got != n {
			t.Errorf("%s = %v, want %v", labels, got, n)
		}
	}
	// The raw paths never become labels.
	durations := series(t, r, "mcpgate_http_request_duration_seconds")
	if len(durations) != 1 || durations["route=token"].GetHistogram().GetSampleCount() != 4 {
		t.Fatalf("duration series %v, want route=token with 4 samples", keys(durations))
	}
}

func TestInstrumentedRouteVisibleBeforeFirstRequest(t *testing.T) {
	r := New("test")
	r.Instrument("authorize", http.NotFoundHandler())
	m, ok := series(t, r, "mcpgate_http_request_duration_seconds")["route=authorize"]
	if !ok || m.GetHistogram().GetSampleCount() != 0 {
		t.Fatalf("route=authorize series missing or non-zero: %v", m)
	}
}

// SSE needs flushing through the wrapper (SPEC PF-5).
func TestInstrumentKeepsFlusher(t *testing.T) {
	r := New("test")
	var flushed bool
	h := r.Instrument("mcp_stream", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("data: x\n\n"))
		flushed = http.NewResponseController(w).Flush() == nil
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/mcp", nil))
	if !flushed || !rec.Flushed {
		t.Fatal("flush did not reach the underlying writer")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// An interim 1xx (103 Early Hints) is not the answer: the request counts
// under the final code, and a handler that writes nothing counts as 200.
func TestInstrumentCountsFinalCode(t *testing.T) {
	r := New("test")
	hints := r.Instrument("hints", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusTeapot)
	}))
	silent := r.Instrument("silent", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	hints.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	silent.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	counts := series(t, r, "mcpgate_http_requests_total")
	for labels, n := range map[string]float64{"code=418,route=hints": 1, "code=200,route=silent": 1} {
		if got := counts[labels].GetCounter().GetValue(); got != n {
			t.Errorf("%s = %v, want %v (series %v)", labels, got, n, keys(counts))
		}
	}
}
