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
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/policy"
)

// maxListBody bounds a JSON list response the gateway reads whole to
// filter it. Lists are small; a larger one is refused rather than
// buffered without limit.
const maxListBody = 16 << 20

// listField is a list result's array, the item key policy matches, and
// the method that would use an item (SPEC PX-7).
type listField struct{ field, key, kind string }

// listFields are the arrays a list result carries. MCP defines these keys
// at the top of a result only for tools/list, prompts/list and
// resources/list, so the gateway recognises a list answer by its shape,
// not by matching its id to a request: ids can be spelled many ways
// ("1", 1.0, "\u0031"), and a resumed stream (Last-Event-ID) can replay a
// list answer on a GET that carried no request at all.
var listFields = []listField{
	{"tools", "name", policy.KindTool},
	{"prompts", "name", policy.KindPrompt},
	{"resources", "uri", policy.KindResource},
}

// hasListRequest reports whether the body asks for a list, so that its
// JSON answer must be read and filtered.
func hasListRequest(in jsonrpc.Inspection) bool {
	for _, m := range in.Messages {
		switch m.Method {
		case "tools/list", "prompts/list", "resources/list":
			if m.Kind == jsonrpc.KindRequest {
				return true
			}
		}
	}
	return false
}

// errUnfilterable: a response that may hold a list the gateway cannot
// read (compressed) is refused, never passed unfiltered.
var errUnfilterable = errors.New("upstream response cannot be filtered")

// filterResponse filters list results: every SSE stream (POST answers and
// GET streams alike, since a stream can replay earlier answers), and a
// JSON answer to a body that asked for a list.
func (rt *route) filterResponse(resp *http.Response, st *forwardState) error {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	sse := ct == "text/event-stream"
	if !sse && !(ct == "application/json" && st.lists) {
		return nil
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return errUnfilterable
	}
	filter := func(b []byte) []byte { return rt.filterPayload(b, st.principal) }
	if sse {
		// The filtered stream's length differs from the upstream's.
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
		resp.Body = &sseFilter{src: bufio.NewReader(resp.Body), closer: resp.Body, filter: filter}
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxListBody+1))
	resp.Body.Close()
	if err != nil || len(b) > maxListBody {
		b = errorPayload(nil, "upstream list response unreadable")
	} else {
		b = filter(b)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	return nil
}

// mayHoldList is a cheap screen run before parsing: a payload with no
// key spelling a list field in any letter case, and no \u escape that
// could spell one, holds no list and passes without being decoded (the
// SSE relay pays no JSON parse per event, SPEC PF-5). Letter case counts
// because clients decode case-insensitively, and by Unicode folding:
// Go's encoding/json reads "Tools" and also "tool\u017F" (a raw long s,
// which folds to 's', two bytes long) into a Tools field. So each quoted
// string is compared whole with bytes.EqualFold, the folding
// encoding/json uses, never by the field's byte length.
func mayHoldList(b []byte) bool {
	if bytes.Contains(b, []byte(`\u`)) {
		return true
	}
	for i := bytes.IndexByte(b, '"'); i >= 0 && i+1 < len(b); {
		rest := b[i+1:]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			break
		}
		for _, lf := range listFields {
			// A fold of an ASCII letter is at most 3 bytes (U+212A).
			if n := len(lf.field); j >= n && j <= 3*n && bytes.EqualFold(rest[:j], []byte(lf.field)) {
				return true
			}
		}
		i += 1 + j
	}
	return false
}

// foldedVariant reports whether m has a key that equals key only up to
// letter case. A client decoding case-insensitively could read it as key,
// so the gateway refuses to guess which one it would use.
func foldedVariant(m map[string]json.RawMessage, key string) bool {
	for k := range m {
		if k != key && strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// filterPayload filters one JSON-RPC message or batch. Anything that is
// not a list answer passes byte for byte. A payload that may hold a list
// but cannot be read is replaced by an error: passing it unfiltered would
// show the caller what policy hides (fail closed).
func (rt *route) filterPayload(b []byte, pr Principal) []byte {
	if !mayHoldList(b) {
		return b
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(b, &batch); err != nil {
			return errorPayload(nil, "upstream list response unreadable")
		}
		changed := false
		for i, m := range batch {
			if out, ok := rt.filterMessage(m, pr); ok {
				batch[i], changed = out, true
			}
		}
		if !changed {
			return b
		}
		out, _ := json.Marshal(batch)
		return out
	}
	if out, ok := rt.filterMessage(b, pr); ok {
		return out
	}
	return b
}

// filterMessage returns the filtered message and true when msg is a
// response whose result holds a list; otherwise false and msg passes
// untouched. Re-encoding from the decoded object also drops duplicate keys
// the client's parser might have read differently.
func (rt *route) filterMessage(msg []byte, pr Principal) ([]byte, bool) {
	unreadable := func(id json.RawMessage) ([]byte, bool) {
		return errorPayload(id, "upstream list response unreadable"), true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(msg, &obj) != nil {
		return unreadable(nil)
	}
	if foldedVariant(obj, "result") {
		return unreadable(obj["id"])
	}
	raw, isResponse := obj["result"]
	if !isResponse || obj["method"] != nil {
		return nil, false
	}
	var result map[string]json.RawMessage
	if json.Unmarshal(raw, &result) != nil {
		return nil, false // not an object: no list in it
	}
	changed := false
	for _, lf := range listFields {
		if foldedVariant(result, lf.field) {
			return unreadable(obj["id"])
		}
		arr, ok := result[lf.field]
		if !ok {
			continue
		}
		kept, err := rt.filterItems(arr, lf, pr)
		if err != nil {
			return unreadable(obj["id"])
		}
		result[lf.field], changed = kept, true
	}
	if !changed {
		return nil, false
	}
	obj["result"], _ = json.Marshal(result)
	out, _ := json.Marshal(obj)
	return out, true
}

func (rt *route) filterItems(arr json.RawMessage, lf listField, pr Principal) (json.RawMessage, error) {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(arr, &items); err != nil {
		return nil, err
	}
	kept := make([]map[string]json.RawMessage, 0, len(items))
	for _, it := range items {
		var name string
		if foldedVariant(it, lf.key) || json.Unmarshal(it[lf.key], &name) != nil {
			return nil, errors.New("list item without one string " + lf.key)
		}
		if lf.kind == policy.KindResource {
			canon, ok := policy.CanonicalURI(name)
			if !ok {
				continue // it could not be read either (authorize.go)
			}
			name = canon
		}
		if rt.policy.Visible(pr.Principal, lf.kind, name, nil) {
			kept = append(kept, it)
		}
	}
	return json.Marshal(kept)
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
// SPEC PX-4). Lines end in LF, CRLF or a lone CR, and a leading BOM is
// ignored, exactly as the SSE parser of a client reads them (WHATWG HTML
// §9.2.6): a stream the filter split differently from the client could
// smuggle an unfiltered list past it.
type sseFilter struct {
	src    *bufio.Reader
	closer io.Closer
	filter func([]byte) []byte
	out    []byte
	err    error
	// started is set after the first byte (a BOM is only skipped there);
	// skipLF after a CR, whose following LF belongs to the same line end.
	started, skipLF bool
	// dropLF: that LF ends an event rewritten with LF ends, so it is
	// not handed on.
	dropLF bool
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
// event's raw bytes, rewritten if its data is a list response. At the end
// of the stream an unfinished event is filtered too: some clients
// dispatch it.
func (f *sseFilter) nextEvent() ([]byte, error) {
	var raw, data []byte
	dataLines := 0
	for {
		consumed, line, ended, err := f.readLine()
		raw = append(raw, consumed...)
		if len(raw) > maxEvent {
			return nil, errors.New("sse event too large")
		}
		if v, ok := bytes.CutPrefix(line, []byte("data")); ok && (len(v) == 0 || v[0] == ':') {
			v = bytes.TrimPrefix(bytes.TrimPrefix(v, []byte(":")), []byte(" "))
			if dataLines > 0 {
				data = append(data, '\n')
			}
			data = append(data, v...)
			dataLines++
		}
		if err != nil || (ended && len(line) == 0) {
			if dataLines > 0 {
				if out := f.filter(data); !bytes.Equal(out, data) {
					raw = rewriteData(raw, out)
					// The rewritten event ends in LF; the LF of a CRLF
					// still to come belongs to it and is dropped.
					f.dropLF = f.skipLF
				}
			}
			return raw, err
		}
	}
}

// readLine reads one line. consumed is every byte read (handed on
// unchanged), line the line without its end, ended whether a line end
// (LF, CRLF or CR) was read. The LF of a CRLF split across reads is
// consumed with the next line: waiting for it would hold an event back.
func (f *sseFilter) readLine() (consumed, line []byte, ended bool, err error) {
	for {
		b, err := f.src.ReadByte()
		if err != nil {
			return consumed, line, false, err
		}
		consumed = append(consumed, b)
		if !f.started {
			f.started = true
			// A UTF-8 BOM at the start of the stream is not part of the
			// first line.
			if b == 0xEF {
				if bom, _ := f.src.Peek(2); bytes.Equal(bom, []byte{0xBB, 0xBF}) {
					f.src.Discard(2)
					consumed = append(consumed, 0xBB, 0xBF)
					continue
				}
			}
		}
		if f.skipLF {
			f.skipLF = false
			if b == '\n' {
				if f.dropLF {
					consumed = consumed[:len(consumed)-1]
				}
				f.dropLF = false
				continue // the rest of the previous line's CRLF
			}
		}
		f.dropLF = false
		switch b {
		case '\n':
			return consumed, line, true, nil
		case '\r':
			// Peek only at what is buffered: blocking for the next byte
			// would hold this event back until the upstream sends more.
			if f.src.Buffered() == 0 {
				f.skipLF = true
			} else if next, _ := f.src.Peek(1); next[0] == '\n' {
				f.src.Discard(1)
				consumed = append(consumed, '\n')
			}
			return consumed, line, true, nil
		}
		line = append(line, b)
		if len(line) > maxEvent {
			return nil, nil, false, errors.New("sse line too large")
		}
	}
}

// rewriteData replaces the data lines of an event with one line holding
// data, keeping every other field line in place (with LF line ends). The event's bytes are
// parsed with the same line ends as nextEvent.
func rewriteData(raw, data []byte) []byte {
	var out []byte
	if bom := []byte{0xEF, 0xBB, 0xBF}; bytes.HasPrefix(raw, bom) {
		out, raw = append(out, bom...), raw[len(bom):] // the stream's BOM, not part of a line
	}
	wrote := false
	for len(raw) > 0 {
		i := bytes.IndexAny(raw, "\r\n")
		var line, end []byte
		if i < 0 {
			line, raw = raw, nil
		} else {
			line = raw[:i]
			n := 1
			if raw[i] == '\r' && i+1 < len(raw) && raw[i+1] == '\n' {
				n = 2
			}
			end, raw = raw[i:i+n], raw[i+n:]
		}
		if v, ok := bytes.CutPrefix(line, []byte("data")); ok && (len(v) == 0 || v[0] == ':') {
			if !wrote {
				out = append(out, "data: "...)
				out = append(out, data...)
				out = append(out, '\n')
				wrote = true
			}
			continue
		}
		// Every kept line ends in LF: with the data lines gone, a CR end
		// next to an LF end would read as one CRLF and swallow the blank
		// line that ends the event.
		out = append(out, line...)
		if len(end) > 0 {
			out = append(out, '\n')
		}
	}
	return out
}
