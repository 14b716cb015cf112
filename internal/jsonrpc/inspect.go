package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Kind is the JSON-RPC 2.0 message kind (JSON-RPC 2.0 §4, §4.1, §5).
type Kind int

// Message kinds.
const (
	KindRequest      Kind = iota + 1 // method and id
	KindNotification                 // method, no id
	KindResponse                     // id and exactly one of result, error
)

func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	}
	return "unknown"
}

// Message is what a policy decision may read from one JSON-RPC message.
type Message struct {
	Kind   Kind
	Method string          // empty for responses
	ID     json.RawMessage // raw JSON; nil for notifications
	// Name is params.name for tools/call and prompts/get.
	Name string
	// URI is params.uri for resources/read.
	URI string
	// Arguments is the raw params.arguments value (nil when absent), a
	// copy for hashing into the audit record, never for forwarding.
	Arguments json.RawMessage
}

// Inspection is the result of inspecting one body.
type Inspection struct {
	Batch    bool      // the body was a JSON array of messages
	Messages []Message // one per message, in body order; never empty
}

// Inspect checks that body is one strict JSON-RPC 2.0 message or a
// non-empty batch and reports what each message asks for. Errors are
// *Error values carrying the JSON-RPC code to answer with. Inspect does
// not modify body and returns no re-encoded bytes: the caller forwards
// body itself, so the upstream executes what was inspected (SPEC PX-6).
//
// It reads the body once (scanner) and takes every field from the spans
// that pass recorded; the refusals and their precedence are those of the
// decoder-based inspector kept as the test oracle (reference_test.go).
func Inspect(body []byte) (Inspection, error) {
	// encoding/json silently replaces invalid UTF-8 with U+FFFD; other
	// parsers reject it or keep the bytes, so refuse it outright.
	if !utf8.Valid(body) {
		return Inspection{}, parseError("body is not valid UTF-8")
	}
	s := scanner{body: body}
	batch, err := s.scan()
	if err != nil {
		// A refusal ends the walk early, but bytes that are not JSON
		// anywhere in the body are a parse error first. json.Valid also
		// applies encoding/json's own nesting limit past MaxDepth.
		if err == errSyntax || !json.Valid(body) {
			return Inspection{}, parseError("body is not valid JSON")
		}
		return Inspection{}, err
	}
	in := Inspection{Batch: batch, Messages: make([]Message, s.nmsg)}
	for i := range in.Messages {
		err := readMessage(&in.Messages[i], body, s.msg(i))
		if err != nil && batch {
			e := err.(*Error)
			err = &Error{Code: e.Code, Message: "batch element " + strconv.Itoa(i) + ": " + e.Message}
		}
		if err != nil {
			return Inspection{}, err
		}
	}
	return in, nil
}

// readMessage fills m from the members the strict pass located. Keys were
// matched after unescaping and the pass refused duplicates and case
// variants, so every parser agrees on each field read here.
func readMessage(m *Message, body []byte, f *fields) error {
	v := func(slot int) []byte {
		if sp := f[slot]; sp.end > 0 {
			return body[sp.start:sp.end]
		}
		return nil
	}
	if !isString(v(slotJSONRPC), "2.0") {
		return invalidRequest(`jsonrpc must be "2.0"`)
	}
	id := v(slotID)
	if id != nil && !isIDType(id) {
		return invalidRequest("id must be a string, a number or null")
	}
	params := v(slotParams)
	if params != nil && params[0] != '{' && params[0] != '[' {
		return invalidRequest("params must be an object or an array")
	}
	raw := v(slotMethod)
	if raw == nil {
		return readResponse(m, id, v(slotResult), v(slotError), params)
	}
	method, ok := cleanString(raw)
	if !ok {
		return invalidRequest("method must be a string")
	}
	if v(slotResult) != nil {
		return invalidRequest("a request has no result")
	}
	if v(slotError) != nil {
		return invalidRequest("a request has no error")
	}
	m.Kind, m.Method = KindNotification, internMethod(method)
	if id != nil {
		// JSON-RPC 2.0 §4: a null id is discouraged for requests, and MCP
		// forbids it; it would also collide with error responses.
		if id[0] == 'n' {
			return invalidRequest("a request id must not be null")
		}
		m.Kind = KindRequest
	}
	// The scanner records name, uri and arguments only inside an object
	// params, so positional params carry none of them.
	return readParams(m, id, v(slotName), v(slotURI), v(slotArguments))
}

func readResponse(m *Message, id, result, errv, params []byte) error {
	if id == nil {
		return invalidRequest("message has neither method nor id")
	}
	if (result != nil) == (errv != nil) {
		return invalidRequest("a response has exactly one of result and error")
	}
	if errv != nil && errv[0] != '{' {
		return invalidRequest("error must be an object")
	}
	if params != nil {
		return invalidRequest("a response has no params")
	}
	m.Kind = KindResponse
	m.ID, _ = copyRaw(id, nil)
	return nil
}

// readParams fills Name, URI, ID and Arguments. name and uri must be
// strings wherever present; the methods that are decided by them must
// carry them.
func readParams(m *Message, id, rawName, rawURI, args []byte) error {
	name, nameOK := cleanString(rawName)
	if rawName != nil && !nameOK {
		return invalidRequest("params.name must be a string")
	}
	uri, uriOK := cleanString(rawURI)
	if rawURI != nil && !uriOK {
		return invalidRequest("params.uri must be a string")
	}
	switch m.Method {
	case "tools/call", "prompts/get":
		if !nameOK {
			return invalidParams("params.name is required for " + m.Method)
		}
		m.Name = string(name)
	case "resources/read":
		if !uriOK {
			return invalidParams("params.uri is required for resources/read")
		}
		m.URI = string(uri)
	}
	m.ID, m.Arguments = copyRaw(id, args)
	return nil
}

// copyRaw copies id and args (either may be nil) into one allocation: the
// caller may reuse body, and Arguments outlives it in the audit record.
func copyRaw(id, args []byte) (idCopy, argsCopy json.RawMessage) {
	if id == nil && args == nil {
		return nil, nil
	}
	buf := make([]byte, 0, len(id)+len(args))
	if id != nil {
		buf = append(buf, id...)
		idCopy = buf[:len(id):len(id)]
	}
	if args != nil {
		argsCopy = append(buf[len(buf):], args...)
	}
	return idCopy, argsCopy
}

// isString reports whether raw is a JSON string whose value is want.
func isString(raw []byte, want string) bool {
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1:len(raw)-1]) == want
	}
	return string(appendUnquoted(nil, raw)) == want
}

// cleanString returns the value of the JSON string raw, refusing non-strings
// and values holding U+FFFD: encoding/json turns an escaped lone surrogate
// ("\ud800") into it, while other parsers keep the surrogate, so the
// gateway and the upstream would read different names. Refusing the
// decoded replacement character is simpler than telling an escape from a
// literal and costs no real MCP name.
func cleanString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		s = appendUnquoted(nil, raw)
	}
	return s, !bytes.Contains(s, replacementChar)
}

var replacementChar = []byte(string(utf8.RuneError))

// internMethod returns method as a string, without allocating for the
// methods MCP clients send most.
func internMethod(method []byte) string {
	switch string(method) {
	case "tools/call":
		return "tools/call"
	case "tools/list":
		return "tools/list"
	case "resources/read":
		return "resources/read"
	case "resources/list":
		return "resources/list"
	case "prompts/get":
		return "prompts/get"
	case "prompts/list":
		return "prompts/list"
	case "initialize":
		return "initialize"
	case "notifications/initialized":
		return "notifications/initialized"
	case "ping":
		return "ping"
	}
	return string(method)
}

func isIDType(raw []byte) bool {
	return raw[0] == '"' || raw[0] == 'n' || raw[0] == '-' || isDigit(raw[0])
}
