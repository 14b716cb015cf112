package proxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
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

// oracleView is what a decision reads from one message.
type oracleView struct{ Method, Name, URI string }

// oracleAgrees fails unless both reference decoders read the forwarded
// body as Inspect did.
func oracleAgrees(t *testing.T, body []byte, in jsonrpc.Inspection) {
	t.Helper()
	want := make([]oracleView, len(in.Messages))
	for i, m := range in.Messages {
		want[i] = oracleView{m.Method, m.Name, m.URI}
	}
	folded, err := oracleFolded(body, in.Batch)
	if err != nil {
		t.Fatalf("forwarded body fails encoding/json (%v): %q", err, body)
	}
	first, err := oracleFirst(body)
	if err != nil {
		t.Fatalf("forwarded body fails the first-occurrence parser (%v): %q", err, body)
	}
	for who, views := range map[string][]oracleView{"case-insensitive": folded, "first-occurrence": first} {
		if len(views) != len(want) {
			t.Fatalf("%s decoder sees %d messages, Inspect %d: %q", who, len(views), len(want), body)
		}
		for i := range views {
			if v := oracleDecided(views[i]); v != want[i] {
				t.Fatalf("message %d: Inspect %+v, %s decoder %+v: %q", i, want[i], who, v, body)
			}
		}
	}
}

// oracleDecided keeps name or uri only for the methods decided on them, as
// Inspect reports them.
func oracleDecided(v oracleView) oracleView {
	switch v.Method {
	case "tools/call", "prompts/get":
		v.URI = ""
	case "resources/read":
		v.Name = ""
	default:
		v.Name, v.URI = "", ""
	}
	return v
}

// oracleFolded decodes as Go code that skipped Inspect would: struct
// fields matched case-insensitively, the last duplicate winning.
func oracleFolded(body []byte, batch bool) ([]oracleView, error) {
	type msg struct {
		Method string
		Params json.RawMessage
	}
	var msgs []msg
	if batch {
		if err := json.Unmarshal(body, &msgs); err != nil {
			return nil, err
		}
	} else {
		msgs = make([]msg, 1)
		if err := json.Unmarshal(body, &msgs[0]); err != nil {
			return nil, err
		}
	}
	out := make([]oracleView, len(msgs))
	for i, m := range msgs {
		out[i].Method = m.Method
		if len(m.Params) > 0 && m.Params[0] == '{' {
			var p struct{ Name, URI string }
			if err := json.Unmarshal(m.Params, &p); err != nil {
				return nil, err
			}
			out[i].Name, out[i].URI = p.Name, p.URI
		}
	}
	return out, nil
}

// oracleFirst reads with exact key matching, the first duplicate winning,
// as many non-Go JSON parsers do.
func oracleFirst(body []byte) ([]oracleView, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == json.Delim('{') {
		v, err := oracleObject(dec, true)
		return []oracleView{v}, err
	}
	var out []oracleView
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the element's {
			return nil, err
		}
		v, err := oracleObject(dec, true)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// oracleObject reads an object whose { was consumed, keeping the first
// string value of method (top level) or name and uri (in params).
func oracleObject(dec *json.Decoder, top bool) (oracleView, error) {
	var v oracleView
	seen := map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return v, err
		}
		key, _ := kt.(string)
		tok, err := dec.Token()
		if err != nil {
			return v, err
		}
		first := !seen[key]
		seen[key] = true
		s, isString := tok.(string)
		switch {
		case top && first && key == "params" && tok == json.Delim('{'):
			p, err := oracleObject(dec, false)
			if err != nil {
				return v, err
			}
			v.Name, v.URI = p.Name, p.URI
			continue
		case top && first && isString && key == "method":
			v.Method = s
		case !top && first && isString && key == "name":
			v.Name = s
		case !top && first && isString && key == "uri":
			v.URI = s
		}
		if err := oracleSkip(dec, tok); err != nil {
			return v, err
		}
	}
	_, err := dec.Token() // }
	return v, err
}

// oracleSkip consumes the rest of a value whose first token was tok.
func oracleSkip(dec *json.Decoder, tok json.Token) error {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
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
		folded, err1 := oracleFolded([]byte(body), false)
		first, err2 := oracleFirst([]byte(body))
		if err1 != nil || err2 != nil || oracleDecided(folded[0]) == oracleDecided(first[0]) {
			t.Errorf("decoders agree on %s: %+v %+v (%v %v)", body, folded, first, err1, err2)
		}
	}
}
