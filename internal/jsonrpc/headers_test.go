package jsonrpc

import (
	"encoding/base64"
	"net/http"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestCheckHeaders(t *testing.T) {
	call := Message{Kind: KindRequest, Method: "tools/call", Name: "rm"}
	prompt := Message{Kind: KindRequest, Method: "prompts/get", Name: "p"}
	read := Message{Kind: KindRequest, Method: "resources/read", URI: "file:///a"}
	list := Message{Kind: KindRequest, Method: "tools/list"}
	resp := Message{Kind: KindResponse}
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	const M = CodeHeaderMismatch
	tests := []struct {
		name string
		h    http.Header
		m    Message
		code int
	}{
		{"no headers", h(), call, 0},
		{"method matches", h("Mcp-Method", "tools/call"), call, 0},
		{"method and name match", h("Mcp-Method", "tools/call", "Mcp-Name", "rm"), call, 0},
		{"lower-case header names", h("mcp-method", "tools/call", "mcp-name", "rm"), call, 0},
		{"prompt name matches", h("Mcp-Name", "p"), prompt, 0},
		{"uri matches", h("Mcp-Method", "resources/read", "Mcp-Name", "file:///a"), read, 0},
		{"method without name header", h("Mcp-Method", "tools/list"), list, 0},
		{"method mismatch", h("Mcp-Method", "tools/list"), call, M},
		{"method case mismatch", h("Mcp-Method", "Tools/Call"), call, M},
		{"empty method header", h("Mcp-Method", ""), call, M},
		{"method header on response", h("Mcp-Method", ""), resp, M},
		{"repeated method header", h("Mcp-Method", "tools/call", "Mcp-Method", "tools/call"), call, M},
		{"name mismatch", h("Mcp-Name", "ls"), call, M},
		{"name holds uri on read", h("Mcp-Name", "rm"), read, M},
		{"uri mismatch", h("Mcp-Name", "file:///b"), read, M},
		{"name on unnamed method", h("Mcp-Name", ""), list, M},
		{"repeated name header", h("Mcp-Name", "rm", "Mcp-Name", "ls"), call, M},
		// SEP-2243: non-ASCII names travel base64-encoded in the header.
		{"base64 name matches", h("Mcp-Name", "=?base64?"+b64("résumé")+"?="), Message{Kind: KindRequest, Method: "tools/call", Name: "résumé"}, 0},
		{"base64 name mismatch", h("Mcp-Name", "=?base64?"+b64("ls")+"?="), call, M},
		{"base64 not decodable", h("Mcp-Name", "=?base64?***?="), call, M},
		{"base64 of the literal sentinel", h("Mcp-Name", "=?base64?"+b64("=?base64?x?=")+"?="), Message{Kind: KindRequest, Method: "tools/call", Name: "=?base64?x?="}, 0},
		{"sentinel without suffix is literal", h("Mcp-Name", "=?base64?rm"), Message{Kind: KindRequest, Method: "tools/call", Name: "=?base64?rm"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codeOf(t, CheckHeaders(tt.h, tt.m)); got != tt.code {
				t.Fatalf("code = %d, want %d", got, tt.code)
			}
		})
	}
}
