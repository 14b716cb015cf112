package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/reqid"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

var (
	cspNonceRE   = regexp.MustCompile(`style-src 'nonce-([A-Za-z0-9_-]{16,})'`)
	styleNonceRE = regexp.MustCompile(`<style nonce="([^"]*)">`)
	requestIDRE  = regexp.MustCompile(`Request ID: <code>([^<]*)</code>`)
)

// everyPage collects one response of each HTML page of the authorization
// server: consent, the provider chooser, the login form, an error page and
// the signed-out message.
func everyPage(t *testing.T, g *testenv.Gateway) map[string]testenv.Response {
	t.Helper()
	b := g.NewBrowser()
	pages := map[string]testenv.Response{}
	id := b.StartFlow(publicParams(g, testenv.NewPKCE()))
	pages["consent"] = b.Get("/oauth/consent?req=" + id)
	b.SubmitConsent(id, "approve")
	pages["chooser"] = b.Get("/oauth/login?req=" + id)
	pages["login"] = b.Get("/oauth/login?" + url.Values{"req": {id}, "provider": {"local"}}.Encode())
	pages["error"] = b.Get("/oauth/authorize?client_id=nope")
	pages["logout"] = b.Post("/oauth/logout", nil)
	for name, p := range pages {
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: not an HTML page (%d %s)", name, p.StatusCode, p.Header.Get("Content-Type"))
		}
	}
	return pages
}

// TestPagesCarrySecurityHeaders: every HTML page (SPEC HD-1) has a CSP that
// allows only its own nonce-tagged style (an injected tag runs nothing),
// forbids framing (clickjacking the Allow button), and is not sniffed, not
// cached (it shows who is signed in) and sends no Referer (the pending
// request ID is in the URL).
func TestPagesCarrySecurityHeaders(t *testing.T) {
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{&fakeIdP{}}})
	nonces := map[string]string{}
	for name, p := range everyPage(t, g) {
		h := p.Header
		csp := h.Get("Content-Security-Policy")
		m := cspNonceRE.FindStringSubmatch(csp)
		styles := styleNonceRE.FindAllStringSubmatch(p.Body, -1)
		if m == nil || len(styles) != 1 || styles[0][1] != m[1] {
			t.Errorf("%s: CSP %q does not match the page's style nonce %v", name, csp, styles)
		} else if other, seen := nonces[m[1]]; seen {
			t.Errorf("%s: nonce reused from %s", name, other)
		} else {
			nonces[m[1]] = name
		}
		for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %s", name, csp, d)
			}
		}
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
			"Cache-Control": "no-store", "X-Frame-Options": "DENY",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", name, k, got, want)
			}
		}
	}
}

// requireRequestID checks that an error page quotes the request ID its
// X-Request-Id header carries, so a user's report matches a log line
// (SPEC AS-10).
func requireRequestID(t *testing.T, resp testenv.Response) string {
	t.Helper()
	id := resp.Header.Get(reqid.Header)
	m := requestIDRE.FindStringSubmatch(resp.Body)
	if id == "" || m == nil || m[1] != id {
		t.Fatalf("page request ID %v, header %q", m, id)
	}
	return id
}

// leaks are fragments of Go errors, SQL and internals that must never
// reach a page (SPEC AS-10).
var leaks = []string{"storage:", "sql", "sqlite", "database", "closed", "panic", "goroutine", ".go:", "dial", "connection refused", "unknown client", "<nil>"}

func requireNoLeak(t *testing.T, resp testenv.Response) {
	t.Helper()
	body := strings.ToLower(resp.Body)
	for _, l := range leaks {
		if strings.Contains(body, l) {
			t.Errorf("page leaks %q:\n%s", l, resp.Body)
		}
	}
}

// TestErrorPagesShowRequestIDAndNoInternals: client-facing errors are fixed
// sentences; the cause (here a CIMD fetch that cannot connect) goes only to
// the log.
func TestErrorPagesShowRequestIDAndNoInternals(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	pages := map[string]testenv.Response{
		"unknown client":    b.Get("/oauth/authorize?client_id=nope"),
		"unfetchable CIMD":  b.Get("/oauth/authorize?" + url.Values{"client_id": {"https://127.0.0.1:1/client.json"}}.Encode()),
		"unknown request":   b.Get("/oauth/consent?req=nope"),
		"callback no state": b.Get("/oauth/callback/local"),
	}
	for name, p := range pages {
		t.Run(name, func(t *testing.T) {
			testenv.RequireErrorPage(t, p, http.StatusBadRequest)
			requireRequestID(t, p)
			requireNoLeak(t, p)
		})
	}
}

// TestServerErrorPageHidesCause: a storage failure inside the flow shows
// server_error with the request ID, and the log line with that ID holds
// the cause.
func TestServerErrorPageHidesCause(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	if err := g.Store().Close(); err != nil {
		t.Fatal(err)
	}
	resp := g.NewBrowser().Get("/oauth/authorize?" + publicParams(g, testenv.NewPKCE()).Encode())
	testenv.RequireErrorPage(t, resp, http.StatusInternalServerError)
	id := requireRequestID(t, resp)
	requireNoLeak(t, resp)
	if !strings.Contains(resp.Body, "server_error") {
		t.Errorf("500 page does not say server_error:\n%s", resp.Body)
	}
	var logged bool
	for line := range strings.Lines(g.Logs.String()) {
		var rec struct {
			Level     string `json:"level"`
			RequestID string `json:"request_id"`
			Err       string `json:"err"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil {
			logged = logged || rec.Level == "ERROR" && rec.RequestID == id && rec.Err != ""
		}
	}
	if !logged {
		t.Errorf("no error log line with request ID %s:\n%s", id, g.Logs.String())
	}
}
