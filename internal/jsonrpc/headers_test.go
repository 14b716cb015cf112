package jsonrpc

import (
	"net/http"
	"testing"
)

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codeOf(t, CheckHeaders(tt.h, tt.m)); got != tt.code {
				t.Fatalf("code = %d, want %d", got, tt.code)
			}
		})
	}
}
