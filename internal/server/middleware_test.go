package server

import (
	"github.com/mcpgate/mcpgate/internal/config"

	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestIDOnEveryResponse(t *testing.T) {
	ts := newTestServer(t, nil)
	seen := map[string]bool{}
	for _, p := range []string{"/healthz", "/readyz", "/nope", "/.well-known/openid-configuration"} {
		resp, _ := ts.get(t, p)
		id := resp.Header.Get(RequestIDHeader)
		if len(id) != 24 {
			t.Errorf("%s: request ID %q, want 24 hex chars", p, id)
		}
		if seen[id] {
			t.Errorf("%s: request ID %q reused", p, id)
		}
		seen[id] = true
	}
}

func TestClientRequestIDIgnored(t *testing.T) {
	ts := newTestServer(t, nil)
	req, _ := http.NewRequest("GET", ts.http.URL+"/healthz", nil)
	req.Header.Set(RequestIDHeader, "forged-request-id")
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get(RequestIDHeader); got == "forged-request-id" || strings.Contains(ts.logs.String(), "forged") {
		t.Errorf("client-sent request ID was adopted (header %q)", got)
	}
}

// Unknown paths, including discovery probes, answer a JSON 404 naming the
// request ID, never a 5xx.
func TestUnknownPathsAre404(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, p := range []string{"/nope", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/x"} {
		resp, body := ts.get(t, p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
			continue
		}
		var e errorBody
		decodeJSON(t, body, &e)
		if e.Error != "not_found" || e.RequestID != resp.Header.Get(RequestIDHeader) {
			t.Errorf("%s: body %s", p, body)
		}
	}
}

// A panicking handler yields a generic 500 with the request ID; the panic
// value and stack reach the log, never the client (SPEC AS-10).
func TestPanicIsRecoveredWithoutLeak(t *testing.T) {
	ts := newTestServer(t, nil)
	h := chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state: db password")
	}), ts.recoverPanics, withRequestID)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "secret") || strings.Contains(body, "goroutine") {
		t.Errorf("response leaks internals: %s", body)
	}
	var e errorBody
	decodeJSON(t, rec.Body.Bytes(), &e)
	if e.RequestID == "" || e.RequestID != rec.Header().Get(RequestIDHeader) {
		t.Errorf("response does not carry the request ID: %s", body)
	}
	if !strings.Contains(ts.logs.String(), "secret internal state") || !strings.Contains(ts.logs.String(), e.RequestID) {
		t.Errorf("panic not logged with its request ID")
	}
}

// The access log never records the query string, which can carry codes.
func TestAccessLogOmitsQuery(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.get(t, "/healthz?code=supersecretcode")
	logs := ts.logs.String()
	if !strings.Contains(logs, "/healthz") {
		t.Fatalf("request not logged: %s", logs)
	}
	if strings.Contains(logs, "supersecretcode") {
		t.Errorf("query string logged: %s", logs)
	}
}

// SPEC HD-1: every response, JSON included, carries the security headers;
// HSTS only when the gateway is reached over https.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	for _, c := range []struct {
		publicURL string
		hsts      bool
	}{{"http://127.0.0.1:8080", false}, {"https://mcp.example.com", true}} {
		ts := newTestServer(t, func(cfg *config.Config) { cfg.PublicURL = c.publicURL; cfg.Listen = "127.0.0.1:8080" })
		for _, path := range []string{"/healthz", "/.well-known/oauth-authorization-server", "/oauth/jwks", "/nowhere"} {
			resp, err := http.Get(ts.http.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s %s: security headers missing: %v", c.publicURL, path, h)
			}
			if got := h.Get("Strict-Transport-Security") != ""; got != c.hsts {
				t.Errorf("%s %s: HSTS present = %v, want %v", c.publicURL, path, got, c.hsts)
			}
		}
	}
}

// A handler that panics after setting headers (a session cookie, CORS for
// its route) leaves none of them on the 500, which keeps the security
// headers and the request ID.
func TestPanicDropsHalfSetHeaders(t *testing.T) {
	ts := newTestServer(t, func(cfg *config.Config) { cfg.PublicURL = "https://mcp.example.com" })
	h := chain(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Set-Cookie", "__Host-mcpgate_session=half-made; Path=/; Secure")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		panic("boom")
	}), securityHeaders(ts.hsts()), ts.recoverPanics, withRequestID)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	got := rec.Header()
	if rec.Code != http.StatusInternalServerError || got.Get("Set-Cookie") != "" || got.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("500 after a panic: %d, headers %v", rec.Code, got)
	}
	if got.Get("Content-Security-Policy") != defaultCSP || got.Get("X-Frame-Options") != "DENY" ||
		got.Get("Strict-Transport-Security") == "" || got.Get(RequestIDHeader) == "" {
		t.Errorf("500 after a panic lost the security headers or request ID: %v", got)
	}
}
