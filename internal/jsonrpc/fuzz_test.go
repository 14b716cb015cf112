package jsonrpc

import (
	"bytes"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc/jsonrpctest"
)

// FuzzInspect checks the SPEC §10 oracle: a body Inspect accepts means the
// same method, name and uri to encoding/json's case-insensitive,
// last-duplicate-wins struct decoding and to a parser that matches keys
// exactly and keeps the first duplicate (how many non-Go upstreams read
// JSON), and Inspect leaves the forwarded bytes untouched.
func FuzzInspect(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","arguments":{"a":[1,{"b":null}]}}}`,
		`{"jsonrpc":"2.0","id":"x","method":"resources/read","params":{"uri":"file:///a"}}`,
		`{"jsonrpc":"2.0","method":"tools/list","Method":"tools/call","id":1}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`,
		`{"jsonrpc":"2.0","id":1,"m\u0065thod":"prompts/get","param\u017f":{"NAME":"p"}}`,
		`[{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":null,"error":{}}]`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm\ud800"}}`,
		nested(70),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		in, err := Inspect(body)
		if !bytes.Equal(body, orig) {
			t.Fatal("Inspect modified the body")
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		got := make([]jsonrpctest.View, len(in.Messages))
		for i, m := range in.Messages {
			got[i] = jsonrpctest.View{Method: m.Method, Name: m.Name, URI: m.URI, Arguments: m.Arguments}
		}
		folded, err := jsonrpctest.Folded(body, in.Batch)
		if err != nil {
			t.Fatalf("accepted body fails encoding/json: %v", err)
		}
		compare(t, "case-insensitive decoder", got, folded)
		first, err := jsonrpctest.First(body)
		if err != nil {
			t.Fatalf("accepted body fails the first-occurrence decoder: %v", err)
		}
		compare(t, "first-occurrence decoder", got, first)
	})
}

func compare(t *testing.T, who string, got, want []jsonrpctest.View) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s sees %d messages, Inspect %d", who, len(want), len(got))
	}
	for i := range got {
		g, w := got[i], jsonrpctest.Decided(want[i])
		if g.Method != w.Method || g.Name != w.Name || g.URI != w.URI {
			t.Fatalf("message %d: Inspect %+v, %s %+v", i, g, who, w)
		}
		if w.Arguments != nil && !bytes.Equal(g.Arguments, w.Arguments) {
			t.Fatalf("message %d: arguments %s, %s %s", i, g.Arguments, who, w.Arguments)
		}
	}
}
