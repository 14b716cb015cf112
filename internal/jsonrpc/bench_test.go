package jsonrpc

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// benchCall is a 1 KiB tools/call, the proxy's hot-path body (the same
// shape as the proxy's PF-1 benchmark).
var benchCall = padCall(1024)

// benchBatch holds three messages: the call, a notification and a response.
var benchBatch = []byte(`[` + string(benchCall) + `,{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":0.5}},` +
	`{"jsonrpc":"2.0","id":"s-1","result":{"content":[{"type":"text","text":"ok"}]}}]`)

func padCall(n int) []byte {
	const format = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{"query":"%s"}}}`
	return fmt.Appendf(nil, format, strings.Repeat("a", n-len(format)+2))
}

func BenchmarkInspect(b *testing.B) {
	for _, bb := range []struct {
		name string
		body []byte
	}{{"call1KiB", benchCall}, {"batch", benchBatch}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if _, err := Inspect(bb.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJSONValid is the floor Inspect is measured against: one
// syntax-only pass over the same body.
func BenchmarkJSONValid(b *testing.B) {
	for _, bb := range []struct {
		name string
		body []byte
	}{{"call1KiB", benchCall}, {"batch", benchBatch}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if !json.Valid(bb.body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
