package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/policy"
)

// maxListBody bounds a JSON list response the gateway reads whole to
// filter it. Lists are small; a larger one is refused rather than
// buffered without limit.
const maxListBody = 16 << 20

// listKinds maps the list methods the gateway filters to the array in
// their result, the item key policy matches, and the method that would use
// an item (SPEC PX-7).
var listKinds = map[string]struct{ field, key, kind string }{
	"tools/list":     {"tools", "name", policy.KindTool},
	"prompts/list":   {"prompts", "name", policy.KindPrompt},
	"resources/list": {"resources", "uri", policy.KindResource},
}

// listRequests maps the id of every list request in the body to its
// method; their responses get filtered.
func listRequests(in jsonrpc.Inspection) map[string]string {
	var out map[string]string
	for _, m := range in.Messages {
		if _, ok := listKinds[m.Method]; ok && m.Kind == jsonrpc.KindRequest {
			if out == nil {
				out = map[string]string{}
			}
			out[string(m.ID)] = m.Method
		}
	}
	return out
}

// filterResponse filters list results in a JSON or SSE response body.
func (rt *route) filterResponse(resp *http.Response, st *forwardState) {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch ct {
	case "text/event-stream":
		resp.Body = &sseFilter{src: bufio.NewReader(resp.Body), closer: resp.Body, filter: func(b []byte) []byte {
			return rt.filterPayload(b, st)
		}}
	case "application/json":
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxListBody+1))
		resp.Body.Close()
		if err != nil || len(b) > maxListBody {
			b = errorPayload(nil, "upstream list response unreadable")
		} else {
			b = rt.filterPayload(b, st)
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	}
}

// filterPayload filters one JSON-RPC message or batch. Anything that is
// not a response to a list request passes byte for byte. A list response
// the gateway cannot read is replaced by an error for its id: passing it
// unfiltered would show the caller what policy hides (fail closed).
func (rt *route) filterPayload(b []byte, st *forwardState) []byte {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(b, &batch); err != nil {
			return errorPayload(nil, "upstream list response unreadable")
		}
		changed := false
		for i, m := range batch {
			if out, ok := rt.filterMessage(m, st); ok {
				batch[i], changed = out, true
			}
		}
		if !changed {
			return b
		}
		out, _ := json.Marshal(batch)
		return out
	}
	if out, ok := rt.filterMessage(b, st); ok {
		return out
	}
	return b
}

// filterMessage returns the filtered message and true when msg answers a
// list request of this body; otherwise false and msg passes untouched.
func (rt *route) filterMessage(msg []byte, st *forwardState) ([]byte, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(msg, &obj) != nil {
		return nil, false
	}
	id, hasID := obj["id"]
	if !hasID || obj["method"] != nil {
		return nil, false
	}
	method, ok := st.lists[string(compactJSON(id))]
	if !ok {
		return nil, false
	}
	if obj["result"] == nil {
		return nil, false // an error response lists nothing
	}
	result, err := rt.filterResult(obj["result"], listKinds[method], st.principal)
	if err != nil {
		return errorPayload(id, "upstream list response unreadable"), true
	}
	obj["result"] = result
	out, _ := json.Marshal(obj)
	return out, true
}

func (rt *route) filterResult(raw json.RawMessage, lk struct{ field, key, kind string }, pr Principal) (json.RawMessage, error) {
	var result map[string]json.RawMessage
	if err := json.Unmarshal(raw, &result); err != nil {
		return nil, err
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(result[lk.field], &items); err != nil {
		return nil, err
	}
	kept := make([]map[string]json.RawMessage, 0, len(items))
	for _, it := range items {
		var name string
		if json.Unmarshal(it[lk.key], &name) != nil {
			return nil, errors.New("list item without a string " + lk.key)
		}
		if rt.policy.Visible(pr.Principal, lk.kind, name, nil) {
			kept = append(kept, it)
		}
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return nil, err
	}
	result[lk.field] = b
	return json.Marshal(result)
}

// compactJSON normalises an id's spacing so "1" and " 1" match the id
// the inspector recorded from the request.
func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

func errorPayload(id json.RawMessage, msg string) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(rpcErrorResponse{JSONRPC: "2.0", ID: id, Error: rpcError{Code: codeServerError, Message: msg}})
	return b
}

// sseFilter passes a text/event-stream through event by event, rewriting
// the data of events that answer list requests. Every other byte, id:,
// retry: and comment lines included, passes unchanged, and each event is
// handed on as soon as its blank line arrives (no buffering across events,
// SPEC PX-4).
type sseFilter struct {
	src    *bufio.Reader
	closer io.Closer
	filter func([]byte) []byte
	out    []byte
	err    error
}

// maxEvent bounds one buffered SSE event.
const maxEvent = 16 << 20

func (f *sseFilter) Read(p []byte) (int, error) {
	for len(f.out) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		f.out, f.err = f.nextEvent()
	}
	n := copy(p, f.out)
	f.out = f.out[n:]
	return n, nil
}

func (f *sseFilter) Close() error { return f.closer.Close() }

// nextEvent reads lines up to and including a blank line and returns the
// event, rewritten if its data is a list response.
func (f *sseFilter) nextEvent() ([]byte, error) {
	var raw, data []byte
	var dataLines int
	for {
		line, err := f.src.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: keep reading it whole.
			raw = append(raw, line...)
			if len(raw) > maxEvent {
				return nil, errors.New("sse event too large")
			}
			continue
		}
		raw = append(raw, line...)
		if err != nil {
			return raw, err
		}
		if len(raw) > maxEvent {
			return nil, errors.New("sse event too large")
		}
		l := bytes.TrimRight(line, "\r\n")
		if len(l) == 0 {
			break
		}
		if v, ok := bytes.CutPrefix(l, []byte("data:")); ok {
			v = bytes.TrimPrefix(v, []byte(" "))
			if dataLines > 0 {
				data = append(data, '\n')
			}
			data = append(data, v...)
			dataLines++
		}
	}
	if dataLines == 0 {
		return raw, nil
	}
	out := f.filter(data)
	if bytes.Equal(out, data) {
		return raw, nil
	}
	return rewriteData(raw, out), nil
}

// rewriteData replaces the data lines of an event with one line holding
// data, keeping every other field line in place.
func rewriteData(raw, data []byte) []byte {
	var out []byte
	wrote := false
	for _, line := range bytes.SplitAfter(raw, []byte("\n")) {
		l := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(l, []byte("data:")) {
			if !wrote {
				out = append(out, "data: "...)
				out = append(out, data...)
				out = append(out, '\n')
				wrote = true
			}
			continue
		}
		out = append(out, line...)
	}
	return out
}
