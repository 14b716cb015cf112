package proxy_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/jsonrpc/jsonrpctest"
	"github.com/mcpgate/mcpgate/internal/policy"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// fuzzRecorder is an upstream that keeps the body of every request and
// answers a fixed JSON-RPC result.
type fuzzRecorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (u *fuzzRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.bodies = append(u.bodies, b)
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
}

// take returns the bodies received since the last take.
func (u *fuzzRecorder) take() [][]byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	b := u.bodies
	u.bodies = nil
	return b
}

// FuzzProxyInspect checks the SPEC §10 oracle through the real pipeline:
// every body is POSTed to the gateway with a valid token. The gateway
// forwards exactly the bodies jsonrpc.Inspect accepts, byte for byte, and
// what it forwards means the same method, tool name and resource URI to
// Inspect, to encoding/json's case-insensitive last-duplicate-wins
// decoding and to an exact-key first-duplicate-wins parser: an upstream
// of either kind executes what the policy decided on. A refused body
// (4xx) never reaches the upstream.
func FuzzProxyInspect(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","arguments":{"path":"/"}}}`,
		`{"jsonrpc":"2.0","id":"r","method":"resources/read","params":{"uri":"file:///etc/passwd"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":1,"result":{}}`,
		// Case variants and duplicates of the keys a decision reads.
		`{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","NAME":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/list","params":{"name":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///ok","Uri":"file:///secret"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"Params":{"name":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"params":{"name":"rm"}}`,
		// Escapes spelling the keys and values.
		`{"jsonrpc":"2.0","id":1,"\u006dethod":"tools/call","params":{"name":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"n\u0061me":"rm","name":"echo"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"r\u006d"}}`,
		`{"jsonrpc":"2.0","id":1,"meth\u006fd":"tools/call","METHOD":"ping","params":{"name":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm\ud800"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","param\u017f":{"name":"rm"}}`, // ſ folds to s
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"\u212Aey":"x","name":"rm"}}`,
		// Batches, nesting, odd ids and trailing bytes.
		`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rm","Name":"x"}}]`,
		`[{"jsonrpc":"2.0","method":"notifications/progress"},{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"m"}}]`,
		`[]`,
		`[[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"}}]]`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"name":"rm","method":"x"},"name":"echo"}}`,
		`{"jsonrpc":"2.0","id":1.0e0,"method":"tools/call","params":{"name":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"}} {"jsonrpc":"2.0"}`,
		"\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["rm"]}`,
		"",
	} {
		f.Add([]byte(s))
	}

	rec := &fuzzRecorder{}
	up := httptest.NewServer(rec)
	f.Cleanup(up.Close)
	g := testenv.New(f, testenv.Options{AuditOutput: io.Discard, Mutate: func(c *config.Config) {
		c.Upstreams[0].URL = up.URL
		c.Logging.Level = "error"
		c.Signing.AccessTokenTTL = config.Duration(24 * time.Hour) // outlasts any fuzzing session
		// Fuzzing sends far more than a user's default budget; a 429
		// would hide what the oracle checks. TestMCPRateLimits owns limits.
		liftMCPLimits(c)
	}})
	_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, testenv.Alice)
	tok := rep.Get("access_token")
	client := g.Client()

	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := http.NewRequest(http.MethodPost, g.URL+testenv.FilesPath, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got := rec.take()
		in, inspectErr := jsonrpc.Inspect(body)
		switch {
		case resp.StatusCode == http.StatusOK:
			if inspectErr != nil {
				t.Fatalf("forwarded a body Inspect refuses (%v): %q", inspectErr, body)
			}
			if len(got) != 1 || !bytes.Equal(got[0], body) {
				t.Fatalf("upstream received %q, the client sent %q", got, body)
			}
			oracleAgrees(t, got[0], in)
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			if len(got) != 0 {
				t.Fatalf("refused with %d but the upstream received %q", resp.StatusCode, got)
			}
			if inspectErr == nil && !(resp.StatusCode == http.StatusForbidden && nonCanonicalResource(in)) {
				t.Fatalf("refused with %d a body Inspect accepts: %q", resp.StatusCode, body)
			}
		default:
			t.Fatalf("status %d for %q", resp.StatusCode, body)
		}
	})
}

// nonCanonicalResource reports whether a message reads a resource URI
// with no canonical form, which policy refuses (403) after Inspect
// accepted the body.
func nonCanonicalResource(in jsonrpc.Inspection) bool {
	for _, m := range in.Messages {
		if m.Method == policy.KindResource && m.Kind != jsonrpc.KindResponse {
			if _, ok := policy.CanonicalURI(m.URI); !ok {
				return true
			}
		}
	}
	return false
}

// oracleAgrees fails unless both reference decoders read the forwarded
// body as Inspect did.
func oracleAgrees(t *testing.T, body []byte, in jsonrpc.Inspection) {
	t.Helper()
	folded, err := jsonrpctest.Folded(body, in.Batch)
	if err != nil {
		t.Fatalf("forwarded body fails encoding/json (%v): %q", err, body)
	}
	first, err := jsonrpctest.First(body)
	if err != nil {
		t.Fatalf("forwarded body fails the first-occurrence parser (%v): %q", err, body)
	}
	for who, views := range map[string][]jsonrpctest.View{"case-insensitive": folded, "first-occurrence": first} {
		if len(views) != len(in.Messages) {
			t.Fatalf("%s decoder sees %d messages, Inspect %d: %q", who, len(views), len(in.Messages), body)
		}
		for i, m := range in.Messages {
			if v := decidedNames(views[i]); v != [3]string{m.Method, m.Name, m.URI} {
				t.Fatalf("message %d: Inspect %q %q %q, %s decoder %q: %q", i, m.Method, m.Name, m.URI, who, v, body)
			}
		}
	}
}

// decidedNames is what a decision reads from a reference view.
func decidedNames(v jsonrpctest.View) [3]string {
	v = jsonrpctest.Decided(v)
	return [3]string{v.Method, v.Name, v.URI}
}

// TestFuzzOracleCatchesSmuggling: the oracle's decoders do disagree on the
// smuggling shapes Inspect must refuse, so a gateway forwarding one
// would fail FuzzProxyInspect rather than pass it unnoticed.
func TestFuzzOracleCatchesSmuggling(t *testing.T) {
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","NAME":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call"}`,
	} {
		folded, err1 := jsonrpctest.Folded([]byte(body), false)
		first, err2 := jsonrpctest.First([]byte(body))
		if err1 != nil || err2 != nil || decidedNames(folded[0]) == decidedNames(first[0]) {
			t.Errorf("decoders agree on %s: %+v %+v (%v %v)", body, folded, first, err1, err2)
		}
	}
}
