package jsonrpc

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// encodeHeaderValue is the client side of the SEP-2243 encoding, written
// independently: a value of printable ASCII without leading or trailing
// white space, and not itself looking encoded, is sent literally; any
// other value as "=?base64?<standard base64>?=".
func encodeHeaderValue(v string) string {
	plain := v != "" && v == strings.Trim(v, " \t") && !strings.HasPrefix(v, "=?base64?")
	for i := 0; plain && i < len(v); i++ {
		plain = v[i] >= 0x20 && v[i] < 0x7f
	}
	if plain {
		return v
	}
	return "=?base64?" + base64.StdEncoding.EncodeToString([]byte(v)) + "?="
}

// TestMcpNameOneSpelling: an encoded Mcp-Name has one spelling; base64
// whose unused bits are set (which lenient decoders accept and strict
// ones, say in a load balancer, refuse) does not match.
func TestMcpNameOneSpelling(t *testing.T) {
	m := Message{Kind: KindRequest, Method: "tools/call", Name: "a"}
	for _, v := range []string{"=?base64?YR==?=", "=?base64?YQ?="} {
		if CheckHeaders(http.Header{"Mcp-Name": {v}}, m) == nil {
			t.Errorf("Mcp-Name %q accepted for %q", v, m.Name)
		}
	}
}

// FuzzCheckHeaders: a client that encodes the body's name as SEP-2243
// says is always accepted (round trip), and any Mcp-Name value that is
// accepted is the body's name either literally or as the canonical
// encoding of it, so no reader of the header can take it for another
// name. Mcp-Method is accepted only when byte-equal to the method.
func FuzzCheckHeaders(f *testing.F) {
	f.Add("tools/call", "rm", "rm", "tools/call")
	f.Add("tools/call", "résumé", "=?base64?csOpc3Vtw6k=?=", "tools/call")
	f.Add("resources/read", "file:///a", "=?base64?ZmlsZTovLy9h?=", "resources/read")
	f.Add("tools/call", "a", "=?base64?YR==?=", "")
	f.Add("prompts/get", " x ", "=?base64?IHgg?=", "Prompts/Get")
	f.Fuzz(func(t *testing.T, method, name, header, methodHeader string) {
		m := Message{Kind: KindRequest, Method: method}
		if method == "resources/read" {
			m.URI = name
		} else {
			m.Name = name
		}
		want, named := nameOf(m)
		if named && CheckHeaders(http.Header{"Mcp-Name": {encodeHeaderValue(want)}, "Mcp-Method": {method}}, m) != nil && method != "" {
			t.Fatalf("encoded Mcp-Name %q for %q refused", encodeHeaderValue(want), want)
		}
		h := http.Header{"Mcp-Name": {header}}
		if methodHeader != "" {
			h.Set("Mcp-Method", methodHeader)
		}
		if CheckHeaders(h, m) != nil {
			return
		}
		if methodHeader != "" && methodHeader != method {
			t.Fatalf("Mcp-Method %q accepted for %q", methodHeader, method)
		}
		if !named {
			t.Fatalf("Mcp-Name accepted for method %q, which names nothing", method)
		}
		if header != want && header != "=?base64?"+base64.StdEncoding.EncodeToString([]byte(want))+"?=" {
			t.Fatalf("Mcp-Name %q accepted for %q", header, want)
		}
	})
}
