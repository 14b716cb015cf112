package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays Inspect accepts.
// MCP messages need a handful of levels; a deep body only costs the
// gateway and the upstream stack and time.
const MaxDepth = 64

// role says which object a key belongs to, because the case-variant rule
// applies to the levels a decision is taken on.
type role int

const (
	roleOther   role = iota
	roleMessage      // a JSON-RPC message object (top level or batch element)
	roleParams       // the params object of a message
)

// exactKeys lists, per role, the keys whose case variants are refused.
// Go's encoding/json matches struct fields case-insensitively (with Unicode
// folding, so "paramſ" matches "params") and keeps the last duplicate,
// while an upstream in another language may match exactly and keep the
// first. Refusing any variant means every parser sees one spelling. result
// and error decide the message kind; arguments is hashed for audit.
var exactKeys = map[role][]string{
	roleMessage: {"jsonrpc", "method", "id", "params", "result", "error"},
	roleParams:  {"name", "uri", "arguments"},
}

// checkStrict walks body once and refuses what parsers may disagree on:
// invalid UTF-8, syntax errors, trailing data, duplicate keys at any depth,
// case variants of security-relevant keys, and nesting past MaxDepth.
// It returns whether the body is a batch.
func checkStrict(body []byte) (batch bool, err error) {
	// encoding/json silently replaces invalid UTF-8 with U+FFFD; other
	// parsers reject it or keep the bytes, so refuse it outright.
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
		err = walkObject(dec, roleMessage, 1)
	case json.Delim('['):
		batch = true
		err = walkBatch(dec)
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

func walkBatch(dec *json.Decoder) error {
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return parseError("body is not valid JSON")
		}
		if tok != json.Delim('{') {
			return invalidRequest("batch element must be an object")
		}
		if err := walkObject(dec, roleMessage, 2); err != nil {
			return err
		}
		n++
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return parseError("body is not valid JSON")
	}
	if n == 0 {
		return invalidRequest("empty batch")
	}
	return nil
}

// walkObject consumes an object whose opening brace was read, at depth.
func walkObject(dec *json.Decoder, r role, depth int) error {
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
		if err := checkCase(key, exactKeys[r]); err != nil {
			return err
		}
		child := roleOther
		if r == roleMessage && key == "params" {
			child = roleParams
		}
		if err := walkValue(dec, child, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing }
	if err != nil {
		return parseError("body is not valid JSON")
	}
	return nil
}

// walkValue consumes one value inside a container at depth.
func walkValue(dec *json.Decoder, r role, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return parseError("body is not valid JSON")
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, r, depth+1)
	case json.Delim('['):
		if depth+1 > MaxDepth {
			return invalidRequest("nesting too deep")
		}
		for dec.More() {
			if err := walkValue(dec, roleOther, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return parseError("body is not valid JSON")
		}
	}
	return nil
}

// checkCase refuses key when it folds to one of exact without being it.
func checkCase(key string, exact []string) error {
	for _, want := range exact {
		if key != want && strings.EqualFold(key, want) {
			return invalidRequest("key " + want + " spelled in another case")
		}
	}
	return nil
}
