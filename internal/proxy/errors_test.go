package proxy_test

import (
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// requireNothingInternal fails if an error body names an address, a port
// or a library error (SPEC PX-12, HD-2).
func requireNothingInternal(t *testing.T, r reply, upstream string) {
	t.Helper()
	for _, leak := range []string{"127.0.0.1", "dial", "refused", "tcp", "net/http", "timeout awaiting", upstream} {
		if leak != "" && strings.Contains(strings.ToLower(r.Body), strings.ToLower(leak)) {
			t.Errorf("error body names %q: %s", leak, r.Body)
		}
	}
}

// requireRequestID fails unless the error's data.request_id is the
// response's X-Request-Id (an operator matches the two).
func requireRequestID(t *testing.T, r reply, m map[string]any) {
	t.Helper()
	data, _ := m["error"].(map[string]any)["data"].(map[string]any)
	if id := r.Header.Get("X-Request-Id"); id == "" || data["request_id"] != id {
		t.Errorf("error data %v, X-Request-Id %q: want the request ID in both", data, id)
	}
}

var requestIDRE = regexp.MustCompile(`"request_id":"[^"]*"`)

// TestUpstreamUnreachable: a closed port answers 502 with a JSON-RPC
// error carrying the request's id and nothing internal, on every method.
func TestUpstreamUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/mcp"
	ln.Close()
	g := gateway(t, dead, nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	r := post(t, g, testenv.FilesPath, tok, `{"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"name":"echo"}}`, nil)
	m := requireRPCError(t, r, http.StatusBadGateway, -32000)
	if m["id"] != "req-7" {
		t.Errorf("id %v, want the request's id req-7", m["id"])
	}
	requireNothingInternal(t, r, ln.Addr().String())
	requireRequestID(t, r, m)
	requireGolden(t, "error_unreachable.golden", []byte(requestIDRE.ReplaceAllString(r.Body, `"request_id":"REQUEST-ID"`)))
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		r := call(t, g, method, testenv.FilesPath, tok, "", nil)
		m := requireRPCError(t, r, http.StatusBadGateway, -32000)
		if m["id"] != nil {
			t.Errorf("%s: id %v, want null", method, m["id"])
		}
		requireNothingInternal(t, r, ln.Addr().String())
	}
}

// TestUpstreamTimeout: an upstream that sends no response headers within
// the upstream's timeout gets 504 (SPEC PX-12); the gateway stops waiting
// and the upstream sees the request cancelled.
func TestUpstreamTimeout(t *testing.T) {
	t.Parallel()
	cancelled := make(chan struct{}, 4)
	up := newRecorderFunc(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		<-r.Context().Done() // never answers; ends when the gateway gives up
		cancelled <- struct{}{}
	})
	g := gateway(t, up.URL, func(c *config.Config) { c.Upstreams[0].Timeout = config.Duration(200 * time.Millisecond) })
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	start := time.Now()
	r := post(t, g, testenv.FilesPath, tok, `{"jsonrpc":"2.0","id":5,"method":"ping"}`, nil)
	m := requireRPCError(t, r, http.StatusGatewayTimeout, -32006)
	if m["id"] != float64(5) {
		t.Errorf("id %v, want 5", m["id"])
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("504 after %v: the timeout is not applied", took)
	}
	requireNothingInternal(t, r, up.URL)
	requireRequestID(t, r, m)
	r = call(t, g, http.MethodGet, testenv.FilesPath, tok, "", nil)
	requireRPCError(t, r, http.StatusGatewayTimeout, -32006)
	<-cancelled
	<-cancelled
}

// TestUpstreamRefusesGatewayCredentials: an upstream's 401 or 403 is the
// gateway's configuration problem, not the client's token: 502, with no
// upstream challenge passed on (a client would otherwise try to
// re-authorize against the wrong server).
func TestUpstreamRefusesGatewayCredentials(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		up := newRecorderFunc(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="upstream", error="invalid_token", resource_metadata="https://upstream.internal/prm"`)
			w.Header().Set("Set-Cookie", "up=1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(`{"error":"upstream secret detail 10.1.2.3"}`))
		})
		g := gateway(t, up.URL, func(c *config.Config) {
			c.Upstreams[0].Credentials = config.Credentials{Type: "static", Header: "X-Api-Key", Value: "s3cret"}
		})
		tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
		r := post(t, g, testenv.FilesPath, tok, pingBody, nil)
		m := requireRPCError(t, r, http.StatusBadGateway, -32000)
		if m["id"] != float64(2) {
			t.Errorf("upstream %d: id %v, want 2", status, m["id"])
		}
		if v := r.Header.Values("WWW-Authenticate"); len(v) != 0 {
			t.Errorf("upstream %d: client received WWW-Authenticate %q", status, v)
		}
		if v := r.Header.Values("Set-Cookie"); len(v) != 0 {
			t.Errorf("upstream %d: client received Set-Cookie %q", status, v)
		}
		if strings.Contains(r.Body, "secret detail") || strings.Contains(r.Body, "upstream.internal") {
			t.Errorf("upstream %d: body passed on: %s", status, r.Body)
		}
	}
}

// TestUpstreamErrorStatusPassesThrough: other upstream statuses are the
// MCP server's answer and pass unchanged (404 for an expired session
// tells the client to start a new one).
func TestUpstreamErrorStatusPassesThrough(t *testing.T) {
	t.Parallel()
	up := newRecorderFunc(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"jsonrpc":"2.0","id":2,"error":{"code":-32001,"message":"session not found"}}`))
	})
	g := gateway(t, up.URL, nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	r := post(t, g, testenv.FilesPath, tok, pingBody, nil)
	if r.Status != http.StatusNotFound || r.Body != `{"jsonrpc":"2.0","id":2,"error":{"code":-32001,"message":"session not found"}}` {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
