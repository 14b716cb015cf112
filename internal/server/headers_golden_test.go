package server_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

var updateHeaders = flag.Bool("update-headers", false, "rewrite testdata/headers/*.golden")

// failAfter bounds every network wait of these tests; none waits for it.
const failAfter = 10 * time.Second

// sseUpstream answers a GET with one event and holds the stream until the
// request ends; a POST gets a JSON answer.
func sseUpstream(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
		return
	}
	// What a careless upstream sends: its own framing and CORS policy,
	// which must not reach the client beside the gateway's.
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	w.Header().Set("Cache-Control", "no-cache")
	io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n")
	http.NewResponseController(w).Flush()
	<-r.Context().Done()
}

// headerGateway is a gateway at an https public_url (so HSTS is on, as in
// production) whose files upstream is h.
func headerGateway(t *testing.T, h http.HandlerFunc, mutate func(*config.Config)) *testenv.Gateway {
	t.Helper()
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	return testenv.New(t, testenv.Options{Driver: "memory", TLS: true, Mutate: func(c *config.Config) {
		c.Upstreams[0].URL = up.URL
		if mutate != nil {
			mutate(c)
		}
	}})
}

var (
	nonceRE = regexp.MustCompile(`'nonce-[^']+'`)
	// Values that differ per run: cookie values and the lengths of
	// answers holding tokens or request IDs.
	cookieRE = regexp.MustCompile(`^([^=]+)=[^;]*`)
)

// dumpHeaders renders status and headers sorted, one value a line, with
// what varies per run replaced by placeholders.
func dumpHeaders(g *testenv.Gateway, resp *http.Response) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP %d\n", resp.StatusCode)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			switch k {
			case "Date":
				v = "<date>"
			case "X-Request-Id":
				v = "<request-id>"
			case "Content-Length":
				v = "<length>"
			case "Set-Cookie":
				v = cookieRE.ReplaceAllString(v, "$1=<value>")
			}
			v = strings.ReplaceAll(v, g.URL, "<public_url>")
			v = nonceRE.ReplaceAllString(v, "'nonce-<nonce>'")
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.Bytes()
}

func requireHeadersGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "headers", name+".golden")
	if *updateHeaders {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/server -run %s -update-headers creates it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: headers differ from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// do sends req to the gateway within failAfter and returns the response
// with its body read, or for an event stream with the body left open
// (closed at the end of the test).
func do(t *testing.T, g *testenv.Gateway, req *http.Request) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), failAfter)
	t.Cleanup(cancel)
	resp, err := g.Client().Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		io.ReadAll(resp.Body)
	}
	return resp
}

func newRequest(t *testing.T, g *testenv.Gateway, method, path, body string, header map[string]string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.HTTP.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// TestResponseHeadersGolden pins the headers of each kind of answer (SPEC
// HD-1): an HTML page, the token endpoint's success and OAuth error, an
// SSE stream through the proxy, a 404, and an MCP route's 401, each
// without and with a browser Origin where CORS applies. Regenerate with
// -update-headers after a deliberate change, and read the diff.
func TestResponseHeadersGolden(t *testing.T) {
	g := headerGateway(t, sseUpstream, nil)
	b := g.NewBrowser()
	f := g.NewFlow(testenv.PublicClient, g.URL+testenv.FilesPath)
	tokenForm := func(code string) string {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.Redirect},
			"code_verifier": {f.PKCE.Verifier}, "client_id": {f.Client}}.Encode()
	}
	reqID := b.StartFlow(g.AuthParams(f.Client, f.Redirect, f.Resource, f.PKCE))
	consent := b.Get("/oauth/consent?req=" + url.QueryEscape(reqID))
	if consent.StatusCode != http.StatusOK || !strings.HasPrefix(consent.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("consent page: %d %s", consent.StatusCode, consent.Header.Get("Content-Type"))
	}
	requireHeadersGolden(t, "html_consent_page", dumpHeaders(g, consent.Response))

	f = g.AuthorizeFlow(b, f, testenv.Alice, nil)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://inspector.example"}
	tok := do(t, g, newRequest(t, g, http.MethodPost, "/oauth/token", tokenForm(f.Code), form))
	if tok.StatusCode != http.StatusOK {
		t.Fatalf("token: %d", tok.StatusCode)
	}
	requireHeadersGolden(t, "json_token_success", dumpHeaders(g, tok))
	replay := do(t, g, newRequest(t, g, http.MethodPost, "/oauth/token", tokenForm(f.Code), form))
	if replay.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed code: %d, want 400 invalid_grant", replay.StatusCode)
	}
	requireHeadersGolden(t, "json_token_error", dumpHeaders(g, replay))

	_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, testenv.Alice)
	bearer := "Bearer " + rep.Get("access_token")
	stream := do(t, g, newRequest(t, g, http.MethodGet, testenv.FilesPath, "",
		map[string]string{"Authorization": bearer, "Accept": "text/event-stream", "Origin": g.URL}))
	if stream.StatusCode != http.StatusOK || stream.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET stream: %d %s", stream.StatusCode, stream.Header.Get("Content-Type"))
	}
	requireHeadersGolden(t, "sse_stream", dumpHeaders(g, stream))

	requireHeadersGolden(t, "error_404", dumpHeaders(g, do(t, g, newRequest(t, g, http.MethodGet, "/nowhere", "", nil))))
	requireHeadersGolden(t, "error_mcp_401", dumpHeaders(g, do(t, g, newRequest(t, g, http.MethodPost, testenv.FilesPath,
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Content-Type": "application/json", "Origin": g.URL}))))
	requireHeadersGolden(t, "mcp_preflight", dumpHeaders(g, do(t, g, newRequest(t, g, http.MethodOptions, testenv.FilesPath, "",
		map[string]string{"Origin": g.URL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, mcp-session-id"}))))
}
