package jsonrpc

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// JSON-RPC error codes the inspector answers with.
const (
	CodeParseError     = -32700 // JSON-RPC 2.0 §5.1: invalid JSON
	CodeInvalidRequest = -32600 // JSON-RPC 2.0 §5.1: not a valid request object
	CodeInvalidParams  = -32602 // JSON-RPC 2.0 §5.1: a required param is missing
	// CodeHeaderMismatch is MCP 2026-07-28's code for Mcp-Method or
	// Mcp-Name headers that disagree with the body (SPEC PX-5).
	CodeHeaderMismatch = -32020
)

// Error is a refusal with the JSON-RPC code to return. Message is safe to
// send to the client: it never echoes bytes from the body.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string {
	return "jsonrpc " + strconv.Itoa(e.Code) + ": " + e.Message
}

func parseError(msg string) error     { return &Error{Code: CodeParseError, Message: msg} }
func invalidRequest(msg string) error { return &Error{Code: CodeInvalidRequest, Message: msg} }
func invalidParams(msg string) error  { return &Error{Code: CodeInvalidParams, Message: msg} }

// MCP 2026-07-28 request headers that repeat what the body says, so
// intermediaries can route without parsing the body.
const (
	HeaderMethod = "Mcp-Method"
	HeaderName   = "Mcp-Name"
)

// CheckHeaders refuses a request whose Mcp-Method or Mcp-Name header
// disagrees with the inspected message m (SPEC PX-5). A load balancer or
// upstream may route or decide on the header while the gateway decides on
// the body; both must name the same thing. Absent headers are fine (older
// protocol versions do not send them); a repeated header is refused because
// different readers would pick different copies.
func CheckHeaders(h http.Header, m Message) error {
	if vals, ok := h[http.CanonicalHeaderKey(HeaderMethod)]; ok {
		if len(vals) != 1 || m.Method == "" || vals[0] != m.Method {
			return mismatch(HeaderMethod + " does not match the body's method")
		}
	}
	vals, ok := h[http.CanonicalHeaderKey(HeaderName)]
	if !ok {
		return nil
	}
	want, named := nameOf(m)
	if len(vals) != 1 || !named {
		return mismatch(HeaderName + " does not match the body's name or uri")
	}
	if got, ok := decodeHeaderValue(vals[0]); !ok || got != want {
		return mismatch(HeaderName + " does not match the body's name or uri")
	}
	return nil
}

// decodeHeaderValue undoes the MCP 2026-07-28 header encoding (SEP-2243):
// a value that is not plain printable ASCII, or that starts or ends with
// white space, travels as "=?base64?<standard base64>?=". Any other value
// is literal.
func decodeHeaderValue(v string) (string, bool) {
	inner, ok := strings.CutPrefix(v, base64Prefix)
	if !ok {
		return v, true
	}
	if inner, ok = strings.CutSuffix(inner, base64Suffix); !ok {
		return v, true
	}
	// Strictly, and without the line breaks the decoder would skip: a
	// value has one encoded spelling, so no reader of the header (a load
	// balancer decoding strictly, say) can take it for another name or
	// for none.
	b, err := base64.StdEncoding.Strict().DecodeString(inner)
	if err != nil || strings.ContainsAny(inner, "\r\n") {
		return "", false
	}
	return string(b), true
}

const (
	base64Prefix = "=?base64?"
	base64Suffix = "?="
)

// nameOf returns the value Mcp-Name must carry for m, if m has one.
func nameOf(m Message) (string, bool) {
	switch m.Method {
	case "tools/call", "prompts/get":
		return m.Name, true
	case "resources/read":
		return m.URI, true
	}
	return "", false
}

func mismatch(msg string) error { return &Error{Code: CodeHeaderMismatch, Message: msg} }
