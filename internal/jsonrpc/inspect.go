package jsonrpc

import (
	"encoding/json"
	"strconv"
	"strings"
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
func Inspect(body []byte) (Inspection, error) {
	batch, err := checkStrict(body)
	if err != nil {
		return Inspection{}, err
	}
	if !batch {
		m, err := inspectOne(body)
		if err != nil {
			return Inspection{}, err
		}
		return Inspection{Messages: []Message{m}}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return Inspection{}, parseError("body is not valid JSON")
	}
	in := Inspection{Batch: true, Messages: make([]Message, 0, len(elems))}
	for i, raw := range elems {
		m, err := inspectOne(raw)
		if err != nil {
			e := err.(*Error)
			return Inspection{}, &Error{Code: e.Code, Message: "batch element " + strconv.Itoa(i) + ": " + e.Message}
		}
		in.Messages = append(in.Messages, m)
	}
	return in, nil
}

// inspectOne decodes a message object that checkStrict accepted. Decoding
// into a map matches keys exactly, and checkStrict has ruled out duplicates
// and case variants, so every parser agrees on each field read here.
func inspectOne(raw []byte) (Message, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Message{}, invalidRequest("message must be an object")
	}
	if v, ok := stringField(obj, "jsonrpc"); !ok || v != "2.0" {
		return Message{}, invalidRequest(`jsonrpc must be "2.0"`)
	}
	id, hasID := obj["id"]
	if hasID && !isIDType(id) {
		return Message{}, invalidRequest("id must be a string, a number or null")
	}
	if params, ok := obj["params"]; ok && !isKind(params, '{') && !isKind(params, '[') {
		return Message{}, invalidRequest("params must be an object or an array")
	}
	if _, ok := obj["method"]; !ok {
		return inspectResponse(obj, id, hasID)
	}
	method, ok := stringField(obj, "method")
	if !ok || !cleanString(method) {
		return Message{}, invalidRequest("method must be a string")
	}
	if _, r := obj["result"]; r {
		return Message{}, invalidRequest("a request has no result")
	}
	if _, e := obj["error"]; e {
		return Message{}, invalidRequest("a request has no error")
	}
	m := Message{Kind: KindNotification, Method: method}
	if hasID {
		// JSON-RPC 2.0 §4: a null id is discouraged for requests, and MCP
		// forbids it; it would also collide with error responses.
		if isKind(id, 'n') {
			return Message{}, invalidRequest("a request id must not be null")
		}
		m.Kind, m.ID = KindRequest, id
	}
	return m, readParams(&m, obj["params"])
}

func inspectResponse(obj map[string]json.RawMessage, id json.RawMessage, hasID bool) (Message, error) {
	if !hasID {
		return Message{}, invalidRequest("message has neither method nor id")
	}
	_, hasResult := obj["result"]
	errv, hasError := obj["error"]
	if hasResult == hasError {
		return Message{}, invalidRequest("a response has exactly one of result and error")
	}
	if hasError && !isKind(errv, '{') {
		return Message{}, invalidRequest("error must be an object")
	}
	if _, ok := obj["params"]; ok {
		return Message{}, invalidRequest("a response has no params")
	}
	return Message{Kind: KindResponse, ID: id}, nil
}

// readParams fills Name, URI and Arguments from an object params. name and
// uri must be strings wherever present; the methods that are decided by
// them must carry them.
func readParams(m *Message, params json.RawMessage) error {
	var p map[string]json.RawMessage
	if isKind(params, '{') {
		if err := json.Unmarshal(params, &p); err != nil {
			return invalidRequest("params must be an object or an array")
		}
	}
	name, nameOK := stringField(p, "name")
	if _, ok := p["name"]; ok && (!nameOK || !cleanString(name)) {
		return invalidRequest("params.name must be a string")
	}
	uri, uriOK := stringField(p, "uri")
	if _, ok := p["uri"]; ok && (!uriOK || !cleanString(uri)) {
		return invalidRequest("params.uri must be a string")
	}
	switch m.Method {
	case "tools/call", "prompts/get":
		if !nameOK {
			return invalidParams("params.name is required for " + m.Method)
		}
		m.Name = name
	case "resources/read":
		if !uriOK {
			return invalidParams("params.uri is required for resources/read")
		}
		m.URI = uri
	}
	if args, ok := p["arguments"]; ok {
		m.Arguments = args
	}
	return nil
}

// stringField decodes obj[key] when it is a JSON string.
func stringField(obj map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := obj[key]
	if !ok || !isKind(raw, '"') {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// cleanString refuses U+FFFD in a decided-on string: encoding/json turns
// an escaped lone surrogate ("\ud800") into it, while other parsers keep
// the surrogate, so the gateway and the upstream would read different
// names. Refusing the decoded replacement character is simpler than
// telling an escape from a literal and costs no real MCP name.
func cleanString(s string) bool {
	return !strings.ContainsRune(s, utf8.RuneError)
}

func isIDType(raw json.RawMessage) bool {
	return isKind(raw, '"') || isKind(raw, 'n') || (len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'))
}

// isKind reports whether raw starts with first; json.RawMessage values from
// json.Unmarshal carry no leading whitespace.
func isKind(raw json.RawMessage, first byte) bool {
	return len(raw) > 0 && raw[0] == first
}
