package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// updateGolden reports whether -update was given: golden files under
// testdata/ are rewritten instead of compared. The flag is registered
// only if no other test file of the package did.
func updateGolden() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
	return flag.Lookup("update").Value.String() == "true"
}

func init() { updateGolden() }

// requireGolden compares got with testdata/name, or rewrites the file
// under -update.
func requireGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updateGolden() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// Upstream session ID the recording upstream hands out: the client must
// never see it (SPEC PX-9).
const upstreamSessionID = "raw-upstream-session-0001"

// recorded is one request as the recording upstream received it.
type recorded struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// recorder is an upstream that records every request and answers with
// minimal valid MCP: JSON to a POST (each request answered with a result,
// lists with the fixtures below), one SSE event to a GET, 200 to a DELETE.
// Its answers carry a Set-Cookie and a session ID that must not reach
// the client as they are.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
	// sse makes POST answers text/event-stream instead of JSON; chunked
	// streams them (flushed, no Content-Length) rather than letting
	// net/http set a Content-Length on the short answer.
	sse, chunked bool
	// next, when set, answers instead of the default MCP behaviour.
	next func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	return newRecorderFunc(t, nil)
}

// newRecorderFunc is a recording upstream that answers with next.
func newRecorderFunc(t *testing.T, next func(w http.ResponseWriter, r *http.Request, body []byte)) *recorder {
	t.Helper()
	rc := &recorder{next: next}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *recorder) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	sse, chunked := rc.sse, rc.chunked
	rc.mu.Unlock()
	if rc.next != nil {
		rc.next(w, r, body)
		return
	}
	w.Header().Set("Set-Cookie", "upstream_session=leak; Path=/")
	w.Header().Set("Mcp-Session-Id", upstreamSessionID)
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "id: ev-1\nretry: 1000\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"hi\"}}\n\n")
	case http.MethodDelete:
		w.WriteHeader(http.StatusOK)
	case http.MethodPost:
		out := answer(body)
		if out == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if sse {
			w.Header().Set("Content-Type", "text/event-stream")
			if chunked {
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
			}
			io.WriteString(w, "id: 7\nevent: message\ndata: "+string(out)+"\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (rc *recorder) requests() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.reqs...)
}

func (rc *recorder) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

// last returns the last request; it fails the test if there was none.
func (rc *recorder) last(t *testing.T) recorded {
	t.Helper()
	reqs := rc.requests()
	if len(reqs) == 0 {
		t.Fatal("the upstream received no request")
	}
	return reqs[len(reqs)-1]
}

// List fixtures of the recording upstream: what an unfiltered list holds.
var listResults = map[string]string{
	"tools/list":     `{"tools":[{"name":"echo","inputSchema":{"type":"object"}},{"name":"reset_counter","inputSchema":{"type":"object"}},{"name":"delete_all","inputSchema":{"type":"object"}},{"name":"write_file","inputSchema":{"type":"object"}}]}`,
	"prompts/list":   `{"prompts":[{"name":"greeting"},{"name":"secret_prompt"}]}`,
	"resources/list": `{"resources":[{"uri":"demo://readme","name":"readme"},{"uri":"secret://plans","name":"plans"}]}`,
}

// answer builds the upstream's JSON answer to a JSON-RPC body: a result
// for every request, echoing its id exactly as the upstream decoded it
// (re-encoded, as real servers do), nil when there is no request.
func answer(body []byte) []byte {
	one := func(raw json.RawMessage) json.RawMessage {
		var m struct {
			ID     any    `json:"id"`
			Method string `json:"method"`
		}
		if json.Unmarshal(raw, &m) != nil || m.ID == nil || m.Method == "" {
			return nil
		}
		result := listResults[m.Method]
		if result == "" {
			result = `{}`
		}
		id, _ := json.Marshal(m.ID)
		return json.RawMessage(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":` + result + `}`)
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		var batch []json.RawMessage
		json.Unmarshal(body, &batch)
		var out []json.RawMessage
		for _, m := range batch {
			if a := one(m); a != nil {
				out = append(out, a)
			}
		}
		if out == nil {
			return nil
		}
		b, _ := json.Marshal(out)
		return b
	}
	return one(body)
}

// gateway starts a test gateway whose two upstreams ("files" and
// "admin") both point at upstreamURL; mutate adjusts the rest.
func gateway(t *testing.T, upstreamURL string, mutate func(*config.Config)) *testenv.Gateway {
	t.Helper()
	return gatewayWith(t, upstreamURL, testenv.Options{Mutate: mutate})
}

func gatewayWith(t *testing.T, upstreamURL string, o testenv.Options) *testenv.Gateway {
	t.Helper()
	mutate := o.Mutate
	o.Mutate = func(c *config.Config) {
		c.Upstreams[0].URL = upstreamURL
		c.Upstreams[1].URL = upstreamURL
		if mutate != nil {
			mutate(c)
		}
	}
	return testenv.New(t, o)
}

// accessToken runs an authorization for user at the upstream path with
// the test public client and returns the access token. scope, when not
// empty, is the scope parameter of the authorization request.
func accessToken(t *testing.T, g *testenv.Gateway, user, path, scope string) string {
	t.Helper()
	return accessTokenFor(t, g, testenv.PublicClient, user, path, scope)
}

func accessTokenFor(t *testing.T, g *testenv.Gateway, client, user, path, scope string) string {
	t.Helper()
	var extra url.Values
	if scope != "" {
		extra = url.Values{"scope": {scope}}
	}
	f := g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(client, g.URL+path), user, extra)
	r := g.Exchange(f, nil)
	if r.Status != http.StatusOK || r.Get("access_token") == "" {
		t.Fatalf("token for %s at %s: %d %s", user, path, r.Status, r.Raw)
	}
	return r.Get("access_token")
}

// reply is the gateway's answer to one MCP request.
type reply struct {
	Status int
	Header http.Header
	Body   string
}

// JSON decodes the body as one JSON object, failing the test if it is not.
func (r reply) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// requestBound caps one test request.
const requestBound = 20 * time.Second

// call sends one request to the gateway at path. token, when set, goes in
// the Authorization header; edit adjusts the request before it is sent.
func call(t *testing.T, g *testenv.Gateway, method, path, token, body string, edit func(*http.Request)) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	// A bound, not a wait: a request the gateway wrongly forwards to a
	// standing GET stream fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), requestBound)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, g.HTTP.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	} else if method == http.MethodGet {
		req.Header.Set("Accept", "text/event-stream")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// post sends a JSON-RPC body with POST.
func post(t *testing.T, g *testenv.Gateway, path, token, body string, edit func(*http.Request)) reply {
	t.Helper()
	return call(t, g, http.MethodPost, path, token, body, edit)
}

// requireRPCError fails unless r is status with a JSON-RPC 2.0 error
// response of code, uncacheable.
func requireRPCError(t *testing.T, r reply, status, code int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	m := r.JSON(t)
	e, _ := m["error"].(map[string]any)
	if m["jsonrpc"] != "2.0" || e == nil {
		t.Fatalf("not a JSON-RPC error response: %s", r.Body)
	}
	if got, _ := e["code"].(float64); int(got) != code {
		t.Fatalf("JSON-RPC error code %v, want %d: %s", e["code"], code, r.Body)
	}
	if _, ok := e["message"].(string); !ok {
		t.Errorf("JSON-RPC error without a message: %s", r.Body)
	}
	return m
}

// sseData returns the data of every event in an SSE body.
func sseData(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	var cur []string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if cur != nil {
				out = append(out, strings.Join(cur, "\n"))
			}
			cur = nil
			continue
		}
		if v, ok := strings.CutPrefix(line, "data:"); ok {
			cur = append(cur, strings.TrimPrefix(v, " "))
		}
	}
	if cur != nil {
		out = append(out, strings.Join(cur, "\n"))
	}
	return out
}

// rpcMessages returns the JSON-RPC messages of a JSON or SSE reply.
func rpcMessages(t *testing.T, r reply) []map[string]any {
	t.Helper()
	var raws []string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "text/event-stream") {
		raws = sseData(t, r.Body)
	} else {
		raws = []string{r.Body}
	}
	var out []map[string]any
	for _, raw := range raws {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		if t0 := strings.TrimSpace(raw); t0[0] == '[' {
			var batch []map[string]any
			if err := json.Unmarshal([]byte(raw), &batch); err != nil {
				t.Fatalf("bad JSON-RPC batch: %v\n%s", err, raw)
			}
			out = append(out, batch...)
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("bad JSON-RPC message: %v\n%s", err, raw)
		}
		out = append(out, m)
	}
	return out
}

// listNames returns the names (uri for resources) in the list result of
// the response with id in r.
func listNames(t *testing.T, r reply, id any, field string) []string {
	t.Helper()
	key := "name"
	if field == "resources" {
		key = "uri"
	}
	for _, m := range rpcMessages(t, r) {
		if m["id"] != id {
			continue
		}
		res, _ := m["result"].(map[string]any)
		if res == nil {
			t.Fatalf("response %v has no result: %v", id, m)
		}
		items, _ := res[field].([]any)
		names := []string{}
		for _, it := range items {
			names = append(names, it.(map[string]any)[key].(string))
		}
		return names
	}
	t.Fatalf("no response with id %v in %d %s", id, r.Status, r.Body)
	return nil
}

const (
	initializeBody  = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"proxy-test","version":"1"}}}`
	initializedBody = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	pingBody        = `{"jsonrpc":"2.0","id":2,"method":"ping"}`
)

// withSession sets the MCP session and protocol version headers.
func withSession(sid string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Mcp-Session-Id", sid)
		r.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	}
}
