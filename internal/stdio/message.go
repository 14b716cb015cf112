package stdio

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// A line is one JSON-RPC message framed for the stdio transport: valid
// JSON with no CR or LF, because a child splits its stdin on newlines and an
// SSE reader splits data on CR as well as LF (MCP basic/transports §stdio:
// "Messages are delimited by newlines, and MUST NOT contain embedded
// newlines").
type line []byte

// frame returns msg as a line. A message without CR or LF is kept byte for
// byte, so the child executes exactly the bytes the proxy inspected (SPEC
// PX-6); otherwise only whitespace outside strings is dropped, which cannot
// change what any JSON parser reads, since raw CR and LF are invalid inside
// a JSON string.
func frame(msg []byte) (line, error) {
	if !bytes.ContainsAny(msg, "\r\n") {
		return line(msg), nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, msg); err != nil {
		return nil, err
	}
	return line(buf.Bytes()), nil
}

// clientMsg is one message of a POST body.
type clientMsg struct {
	line     line
	kind     jsonrpc.Kind
	method   string
	id       json.RawMessage // requests only
	idKey    string          // requests only
	progress string          // requests only: key of params._meta.progressToken, if any
}

type parsedBody []clientMsg

// parseBody runs the proxy's strict inspector (the same one the policy
// decided on) and splits a batch into one line per message, so each reaches
// the child as its own stdio message and gets its own response.
func parseBody(raw []byte) (parsedBody, error) {
	in, err := jsonrpc.Inspect(raw)
	if err != nil {
		return nil, err
	}
	elems := []json.RawMessage{raw}
	if in.Batch {
		elems = nil
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeParseError, Message: "body is not valid JSON"}
		}
	}
	body := make(parsedBody, len(in.Messages))
	for i, m := range in.Messages {
		l, err := frame(elems[i])
		if err != nil {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeParseError, Message: "body is not valid JSON"}
		}
		body[i] = clientMsg{line: l, kind: m.Kind, method: m.Method}
		if m.Kind == jsonrpc.KindRequest {
			body[i].id = m.ID
			body[i].idKey = idKey(m.ID)
			body[i].progress = progressToken(elems[i])
		}
	}
	return body, nil
}

// requests counts the messages that expect a response.
func (p parsedBody) requests() int {
	n := 0
	for _, m := range p {
		if m.kind == jsonrpc.KindRequest {
			n++
		}
	}
	return n
}

// initialize returns the body's initialize request if the body is that
// request alone, the only body that may start a session.
func (p parsedBody) initialize() (clientMsg, bool) {
	if len(p) != 1 || p[0].kind != jsonrpc.KindRequest || p[0].method != "initialize" {
		return clientMsg{}, false
	}
	return p[0], true
}

// joined is the body as the bytes written to stdin in one piece, so
// messages of concurrent POSTs never interleave inside a batch.
func (p parsedBody) joined() []byte {
	var n int
	for _, m := range p {
		n += len(m.line) + 1
	}
	out := make([]byte, 0, n)
	for _, m := range p {
		out = append(out, m.line...)
		out = append(out, '\n')
	}
	return out
}

// idKey names a JSON-RPC id for matching a response to its request: the
// string 1 and the number 1 are different ids (JSON-RPC 2.0 §4).
func idKey(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return "s:" + s
	}
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return "" // null, or not an id at all: never routed
	}
	if string(raw) == "-0" {
		return "n:0"
	}
	return "n:" + string(raw)
}

// progressToken returns the key of params._meta.progressToken, which MCP
// progress notifications echo (basic/utilities/progress), so they go to the
// stream of the request they report on.
func progressToken(msg []byte) string {
	var v struct {
		Params struct {
			Meta struct {
				ProgressToken json.RawMessage `json:"progressToken"`
			} `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(msg, &v) != nil {
		return ""
	}
	return idKey(v.Params.Meta.ProgressToken)
}

// childMsg is one message the child wrote.
type childMsg struct {
	line     line
	kind     jsonrpc.Kind
	idKey    string // responses: the request it answers
	progress string // notifications/progress: its token's key
}

var errNotJSONRPC = errors.New("not a JSON-RPC message")

// parseChildLine reads one stdout line. The child is third-party code, so
// nothing here trusts it beyond routing within its own session: a line that
// is not JSON is refused; a batch is split so every message is routed on
// its own. Each returned line is framed for SSE.
func parseChildLine(raw []byte) ([]childMsg, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, errNotJSONRPC
	}
	elems := []json.RawMessage{raw}
	if raw[0] == '[' {
		elems = nil
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, errNotJSONRPC
		}
	}
	out := make([]childMsg, 0, len(elems))
	for _, e := range elems {
		m, err := classifyChild(e)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func classifyChild(raw json.RawMessage) (childMsg, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return childMsg{}, errNotJSONRPC
	}
	l, err := frame(raw)
	if err != nil {
		return childMsg{}, errNotJSONRPC
	}
	m := childMsg{line: l}
	var method string
	if rawMethod, ok := obj["method"]; ok {
		if json.Unmarshal(rawMethod, &method) != nil {
			return childMsg{}, errNotJSONRPC
		}
	}
	id, hasID := obj["id"]
	switch {
	case method != "" && hasID:
		m.kind = jsonrpc.KindRequest
	case method != "":
		m.kind = jsonrpc.KindNotification
		if method == "notifications/progress" {
			m.progress = progressOf(obj["params"])
		}
	case hasID:
		m.kind, m.idKey = jsonrpc.KindResponse, idKey(id)
	default:
		return childMsg{}, errNotJSONRPC
	}
	return m, nil
}

func progressOf(params json.RawMessage) string {
	var p struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	}
	if json.Unmarshal(params, &p) != nil {
		return ""
	}
	return idKey(p.ProgressToken)
}
