package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// recorder is the client's transport: it records every hop the MCP client
// makes (the MCP endpoint, metadata, registration, token) with the status
// it got, so a test can assert the whole conversation rather than only its
// outcome.
type recorder struct {
	next   http.RoundTripper
	prefix string // the MCP endpoint's path: POSTs there are labelled by JSON-RPC method

	mu   sync.Mutex
	hops []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	label := req.Method + " " + req.URL.Path
	if req.Method == http.MethodPost && req.URL.Path == r.prefix {
		label += " " + rpcLabel(req)
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		r.add(label + " -> error")
		return nil, err
	}
	r.add(fmt.Sprintf("%s -> %d", label, resp.StatusCode))
	return resp, nil
}

func (r *recorder) add(hop string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hops = append(r.hops, hop)
}

// mark is the number of hops so far, for since.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hops)
}

// since returns the hops after mark, leaving out the standalone SSE GET
// and the closing DELETE on the MCP endpoint: the client sends those from
// its own goroutines, so their place in the sequence is not fixed.
func (r *recorder) since(mark int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, h := range r.hops[mark:] {
		if strings.HasPrefix(h, http.MethodGet+" "+r.prefix+" ") || strings.HasPrefix(h, http.MethodDelete+" ") {
			continue
		}
		out = append(out, h)
	}
	return out
}

// count is how many hops (all of them) start with prefix.
func (r *recorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, h := range r.hops {
		if strings.HasPrefix(h, prefix) {
			n++
		}
	}
	return n
}

// rpcLabel names a JSON-RPC body by its method, and a tools/call by its
// tool too ("tools/call echo"). It reads a copy of the body (GetBody), so
// the request goes out unchanged.
func rpcLabel(req *http.Request) string {
	if req.GetBody == nil {
		return "?"
	}
	body, err := req.GetBody()
	if err != nil {
		return "?"
	}
	defer body.Close()
	raw, _ := io.ReadAll(body)
	var msg struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &msg) != nil || msg.Method == "" {
		return "?"
	}
	if msg.Params.Name != "" {
		return msg.Method + " " + msg.Params.Name
	}
	return msg.Method
}
