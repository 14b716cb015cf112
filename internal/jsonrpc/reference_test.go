package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// inspectReference is the inspector Inspect replaced, kept as the oracle of
// FuzzInspectMatchesReference: it walks the body with json.Decoder.Token
// (checkStrict) and then decodes each message into maps. It is slow (a
// token allocation per value, every string unquoted) but obviously agrees
// with encoding/json, which is what makes it a good oracle.
func inspectReference(body []byte) (Inspection, error) {
	batch, err := refCheckStrict(body)
	if err != nil {
		return Inspection{}, err
	}
	if !batch {
		m, err := refInspectOne(body)
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
		m, err := refInspectOne(raw)
		if err != nil {
			e := err.(*Error)
			return Inspection{}, &Error{Code: e.Code, Message: "batch element " + strconv.Itoa(i) + ": " + e.Message}
		}
		in.Messages = append(in.Messages, m)
	}
	return in, nil
}

func refInspectOne(raw []byte) (Message, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Message{}, invalidRequest("message must be an object")
	}
	if v, ok := refStringField(obj, "jsonrpc"); !ok || v != "2.0" {
		return Message{}, invalidRequest(`jsonrpc must be "2.0"`)
	}
	id, hasID := obj["id"]
	if hasID && !refIsIDType(id) {
		return Message{}, invalidRequest("id must be a string, a number or null")
	}
	if params, ok := obj["params"]; ok && !refIsKind(params, '{') && !refIsKind(params, '[') {
		return Message{}, invalidRequest("params must be an object or an array")
	}
	if _, ok := obj["method"]; !ok {
		return refInspectResponse(obj, id, hasID)
	}
	method, ok := refStringField(obj, "method")
	if !ok || !refCleanString(method) {
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
		if refIsKind(id, 'n') {
			return Message{}, invalidRequest("a request id must not be null")
		}
		m.Kind, m.ID = KindRequest, id
	}
	return m, refReadParams(&m, obj["params"])
}

func refInspectResponse(obj map[string]json.RawMessage, id json.RawMessage, hasID bool) (Message, error) {
	if !hasID {
		return Message{}, invalidRequest("message has neither method nor id")
	}
	_, hasResult := obj["result"]
	errv, hasError := obj["error"]
	if hasResult == hasError {
		return Message{}, invalidRequest("a response has exactly one of result and error")
	}
	if hasError && !refIsKind(errv, '{') {
		return Message{}, invalidRequest("error must be an object")
	}
	if _, ok := obj["params"]; ok {
		return Message{}, invalidRequest("a response has no params")
	}
	return Message{Kind: KindResponse, ID: id}, nil
}

func refReadParams(m *Message, params json.RawMessage) error {
	var p map[string]json.RawMessage
	if refIsKind(params, '{') {
		if err := json.Unmarshal(params, &p); err != nil {
			return invalidRequest("params must be an object or an array")
		}
	}
	name, nameOK := refStringField(p, "name")
	if _, ok := p["name"]; ok && (!nameOK || !refCleanString(name)) {
		return invalidRequest("params.name must be a string")
	}
	uri, uriOK := refStringField(p, "uri")
	if _, ok := p["uri"]; ok && (!uriOK || !refCleanString(uri)) {
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

func refStringField(obj map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := obj[key]
	if !ok || !refIsKind(raw, '"') {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func refCleanString(s string) bool {
	return !strings.ContainsRune(s, utf8.RuneError)
}

func refIsIDType(raw json.RawMessage) bool {
	return refIsKind(raw, '"') || refIsKind(raw, 'n') || (len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'))
}

func refIsKind(raw json.RawMessage, first byte) bool {
	return len(raw) > 0 && raw[0] == first
}

var refExactKeys = map[role][]string{
	roleMessage: {"jsonrpc", "method", "id", "params", "result", "error"},
	roleParams:  {"name", "uri", "arguments"},
}

func refCheckStrict(body []byte) (batch bool, err error) {
	if !utf8.Valid(body) {
		return false, parseError("body is not valid UTF-8")
	}
	if !json.Valid(body) {
		return false, parseError("body is not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return false, parseError("body is not valid JSON")
	}
	switch tok {
	case json.Delim('{'):
		err = refWalkObject(dec, roleMessage, 1)
	case json.Delim('['):
		batch = true
		err = refWalkBatch(dec)
	default:
		err = invalidRequest("message must be an object or a batch array")
	}
	if err != nil {
		return batch, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return batch, parseError("trailing data after the JSON value")
	}
	return batch, nil
}

func refWalkBatch(dec *json.Decoder) error {
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return parseError("body is not valid JSON")
		}
		if tok != json.Delim('{') {
			return invalidRequest("batch element must be an object")
		}
		if err := refWalkObject(dec, roleMessage, 2); err != nil {
			return err
		}
		n++
	}
	if _, err := dec.Token(); err != nil {
		return parseError("body is not valid JSON")
	}
	if n == 0 {
		return invalidRequest("empty batch")
	}
	return nil
}

func refWalkObject(dec *json.Decoder, r role, depth int) error {
	if depth > MaxDepth {
		return invalidRequest("nesting too deep")
	}
	seen := make(map[string]struct{})
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return parseError("body is not valid JSON")
		}
		key, ok := tok.(string)
		if !ok {
			return parseError("body is not valid JSON")
		}
		if _, dup := seen[key]; dup {
			return invalidRequest("duplicate key")
		}
		seen[key] = struct{}{}
		if err := refCheckCase(key, refExactKeys[r]); err != nil {
			return err
		}
		child := roleOther
		if r == roleMessage && key == "params" {
			child = roleParams
		}
		if err := refWalkValue(dec, child, depth); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return parseError("body is not valid JSON")
	}
	return nil
}

func refWalkValue(dec *json.Decoder, r role, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return parseError("body is not valid JSON")
	}
	switch tok {
	case json.Delim('{'):
		return refWalkObject(dec, r, depth+1)
	case json.Delim('['):
		if depth+1 > MaxDepth {
			return invalidRequest("nesting too deep")
		}
		for dec.More() {
			if err := refWalkValue(dec, roleOther, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return parseError("body is not valid JSON")
		}
	}
	return nil
}

func refCheckCase(key string, exact []string) error {
	for _, want := range exact {
		if key != want && strings.EqualFold(key, want) {
			return invalidRequest("key " + want + " spelled in another case")
		}
	}
	return nil
}
