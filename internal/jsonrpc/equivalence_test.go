package jsonrpc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzInspectMatchesReference checks that Inspect, one byte-level pass,
// answers every body exactly as inspectReference, the decoder-based
// inspector it replaced: the same Inspection, or the same error code and
// message.
func FuzzInspectMatchesReference(f *testing.F) {
	for _, s := range equivalenceSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		got, gotErr := Inspect(body)
		if !bytes.Equal(body, orig) {
			t.Fatal("Inspect modified the body")
		}
		want, wantErr := inspectReference(body)
		if msg := sameResult(got, gotErr, want, wantErr); msg != "" {
			t.Fatalf("%s\nbody %q", msg, body)
		}
	})
}

// TestInspectMatchesReference runs the seeds on every go test, so the
// equivalence is checked without -fuzz too.
func TestInspectMatchesReference(t *testing.T) {
	for _, s := range equivalenceSeeds() {
		got, gotErr := Inspect([]byte(s))
		want, wantErr := inspectReference([]byte(s))
		if msg := sameResult(got, gotErr, want, wantErr); msg != "" {
			t.Errorf("%s\nbody %q", msg, s)
		}
	}
}

func sameResult(got Inspection, gotErr error, want Inspection, wantErr error) string {
	if (gotErr == nil) != (wantErr == nil) {
		return "Inspect: " + errString(gotErr) + "; reference: " + errString(wantErr)
	}
	if gotErr != nil {
		var g, w *Error
		if !errors.As(gotErr, &g) || !errors.As(wantErr, &w) || *g != *w {
			return "Inspect: " + errString(gotErr) + "; reference: " + errString(wantErr)
		}
		return ""
	}
	if got.Batch != want.Batch || !equalMessages(got.Messages, want.Messages) {
		return "inspections differ"
	}
	for i := range got.Messages {
		g, w := got.Messages[i], want.Messages[i]
		if (g.ID == nil) != (w.ID == nil) || (g.Arguments == nil) != (w.Arguments == nil) {
			return "nil-ness of ID or Arguments differs"
		}
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "accepted"
	}
	return err.Error()
}

// equivalenceSeeds are the bodies of the inspector's tests and the bodies
// on the edges of the scanner's rules.
func equivalenceSeeds() []string {
	seeds := []string{
		// From TestInspectRefusals, TestInspectAccepts, TestInspectBatch
		// and FuzzInspect.
		``, `{"jsonrpc":"2.0",`, `{"jsonrpc":"2.0","method":"m"} {}`,
		"{\"jsonrpc\":\"2.0\",\"method\":\"a\xffb\"}", "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"\xc0\":1}",
		`"hello"`, `[]`, `[1]`, `[[{"jsonrpc":"2.0","method":"m"}]]`,
		`[{"jsonrpc":"2.0","method":"m"},{"jsonrpc":"1.0","method":"m"}]`,
		`[{"jsonrpc":"2.0","method":"m"},{"jsonrpc":"2.0","method":"a","method":"b"}]`,
		`{"jsonrpc":"2.0","method":"tools/list","method":"tools/call","id":1}`,
		`{"jsonrpc":"2.0","method":"m","id":1,"id":2}`,
		`{"jsonrpc":"2.0","method":"m","x":1,"x":2}`,
		`{"jsonrpc":"2.0","method":"m","params":{},"params":{}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"safe","name":"rm"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a","uri":"b"}}`,
		`{"jsonrpc":"2.0","method":"m","params":{"arguments":{"a":{"b":1,"b":2}}}}`,
		`{"jsonrpc":"2.0","method":"a","m\u0065thod":"b"}`,
		`{"jsonrpc":"2.0","method":"tools/list","Method":"tools/call","id":1}`,
		`{"jsonrpc":"2.0","METHOD":"tools/call","id":1,"result":{}}`,
		`{"JSONRPC":"2.0","jsonrpc":"2.0","method":"m"}`,
		`{"jsonrpc":"2.0","method":"m","Id":1}`, `{"jsonrpc":"2.0","method":"m","id":1,"ID":2}`,
		`{"jsonrpc":"2.0","method":"m","Params":{}}`, `{"jsonrpc":"2.0","method":"m","param\u017f":{}}`,
		`{"jsonrpc":"2.0","id":1,"Result":{},"error":{}}`, `{"jsonrpc":"2.0","id":1,"result":{},"Error":{}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"NAME":"b"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a","URI":"b"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"Uri":"b"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Arguments":{}}}`,
		`{"method":"m"}`, `{"jsonrpc":"1.0","method":"m"}`, `{"jsonrpc":2.0,"method":"m"}`,
		`{"jsonrpc":"2.0","method":1}`, `{"jsonrpc":"2.0","method":null}`,
		`{"jsonrpc":"2.0","method":"tools/call\ud800"}`, `{"jsonrpc":"2.0","method":"m","id":{}}`,
		`{"jsonrpc":"2.0","method":"m","id":true}`, `{"jsonrpc":"2.0","method":"m","id":null}`,
		`{"jsonrpc":"2.0","method":"m","params":"x"}`, `{"jsonrpc":"2.0","method":"m","params":null}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":1}}`,
		`{"jsonrpc":"2.0","id":1,"method":"x","params":{"name":null}}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":{}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm\udfff"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["rm"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"prompts/get"}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"name":"x"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","result":{}}`, `{"jsonrpc":"2.0","id":1,"method":"m","error":{}}`,
		`{"jsonrpc":"2.0","result":{}}`, `{"jsonrpc":"2.0","id":1}`,
		`{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, `{"jsonrpc":"2.0","id":1,"error":"x"}`,
		`{"jsonrpc":"2.0","id":1,"result":{},"params":{}}`,
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"rm","arguments":{"path":"/"}}}`,
		" {\n \"jsonrpc\" : \"2.0\" , \"id\" : \"a\" , \"method\" : \"prompts/get\" , \"params\" : { \"name\" : \"p\" } } \n",
		`{"jsonrpc":"2.0","id":-1.5e3,"method":"resources/read","params":{"uri":"file:///etc"}}`,
		`{"jsonrpc":"2.0","id":1,"m\u0065thod":"tools\/call","params":{"name":"\u0072m"}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`, `{"jsonrpc":"2.0","method":"x","params":[1,2]}`,
		`{"jsonrpc":"2.0","id":3,"result":{"Result":1,"result":{"a":1}}}`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"Name":1,"name":2,"METHOD":3}}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":"s","result":{}}]`,
		`[{"jsonrpc":"2.0","method":"m"},{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}]`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","arguments":{"a":[1,{"b":null}]}}}`,
		`{"jsonrpc":"2.0","id":"x","method":"resources/read","params":{"uri":"file:///a"}}`,
		`{"jsonrpc":"2.0","id":1,"m\u0065thod":"prompts/get","param\u017f":{"NAME":"p"}}`,
		`[{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":null,"error":{}}]`,
		nested(63), nested(64), nested(70), nested(5000), nested(10001), nested(20000),

		// Escapes: surrogates pair only with the escape right after them,
		// and keys compare after unescaping.
		`{"jsonrpc":"2.0","method":"m","params":{"\ud800":1,"\udfff":2}}`,
		`{"jsonrpc":"2.0","method":"m","params":{"\ud800\ud800":1,"\ufffd\ufffd":2}}`,
		`{"jsonrpc":"2.0","method":"m","params":{"\ud83d\ude00":1,"😀":2}}`,
		`{"jsonrpc":"2.0","method":"m","params":{"\ud83d\u0041":1,"\ufffdA":2}}`,
		`{"jsonrpc":"2.0","method":"m","params":{"a\"\\\/\b\f\n\r\t":1,"a\u0022\u005c/\u0008\u000c\u000a\u000d\u0009":2}}`,
		`{"jsonrpc":"2\u002e0","method":"\u0074ools/call","id":"\ud800","params":{"n\u0061me":"x\ud83d\ude00"}}`,
		`{"jsonrpc":"2.0","method":"tools/call","id":1,"params":{"name":"\ufffd"}}`,
		`{"jsonrpc":"2.0","method":"tools/call","id":1,"params":{"name":"�"}}`,
		`{"jsonrpc":"2.0","method":"m","params":{"\u00":1}}`, `{"jsonrpc":"2.0","method":"m","params":{"\x":1}}`,
		"{\"jsonrpc\":\"2.0\",\"method\":\"m\x01\"}", "{\"jsonrpc\":\"2.0\",\"method\":\"m\x7f\"}",
		// Case folding beyond ASCII: ſ folds to s, K (Kelvin) to k.
		`{"jsonrpc":"2.0","method":"m","ſ":1,"S":2}`, `{"jſonrpc":"2.0","method":"m"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{},"ARGUMENTſ":1}}`,
		// Numbers and literals.
		`{"jsonrpc":"2.0","method":"m","id":0}`, `{"jsonrpc":"2.0","method":"m","id":-0.0e+0}`,
		`{"jsonrpc":"2.0","method":"m","id":01}`, `{"jsonrpc":"2.0","method":"m","id":1.}`,
		`{"jsonrpc":"2.0","method":"m","id":.5}`, `{"jsonrpc":"2.0","method":"m","id":1e}`,
		`{"jsonrpc":"2.0","method":"m","id":-}`, `{"jsonrpc":"2.0","method":"m","id":+1}`,
		`{"jsonrpc":"2.0","method":"m","id":1E-7}`, `{"jsonrpc":"2.0","method":"m","id":1e999999}`,
		`{"jsonrpc":"2.0","method":"m","params":[true,false,null,tru,nul]}`,
		`{"jsonrpc":"2.0","method":"m","params":[truex]}`, `{"jsonrpc":"2.0","method":"m","id":nullx}`,
		// Structure and white space.
		"\t\r\n {\"jsonrpc\"\t:\r\"2.0\"\n,\"method\":\"m\"}\t\r\n", "\ufeff{\"jsonrpc\":\"2.0\",\"method\":\"m\"}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"m\"}\x00", "{\"jsonrpc\":\"2.0\",\"method\":\"m\"}\v",
		`{"jsonrpc":"2.0","method":"m",}`, `{"jsonrpc":"2.0","method":"m"`, `{"jsonrpc":"2.0" "method":"m"}`,
		`{"jsonrpc":"2.0","method":"m","params":[1,]}`, `{"jsonrpc":"2.0","method":"m","params":[,1]}`,
		`{"jsonrpc":"2.0","method":"m","params":{1:2}}`, `{"jsonrpc":"2.0","method":"m","params":{"a"}}`,
		`[{"jsonrpc":"2.0","method":"m"},]`, `[{"jsonrpc":"2.0","method":"m"} {"jsonrpc":"2.0","method":"m"}]`,
		`[{"jsonrpc":"2.0","method":"m"},1]`, `[{"jsonrpc":"2.0","method":"m"},1,}`, `[ ]`, `[`, `{`, `{}`,
		`[{"jsonrpc":"2.0","method":"m","x":1,"x":2},{]`, `{"jsonrpc":"2.0","Method":"m"` + `,"a":}`,
		`1`, `null`, `1 2`, `"a" x`,
		`{"jsonrpc":"2.0","id":1,"method":"notifications/x","params":{"arguments":[1,2]}}`,
		`{"jsonrpc":"2.0","id":1,"error":{},"params":[]}`, `{"jsonrpc":"2.0","id":true,"error":{}}`,
		`{"jsonrpc":"2.0","id":1,"error":{},"method":5}`,
	}
	// Objects on both sides of the switch from comparisons to a map.
	for _, n := range []int{maxLinearKeys, maxLinearKeys + 1, 3 * maxLinearKeys} {
		var b strings.Builder
		for i := range n {
			b.WriteString(`"k` + strings.Repeat("x", i) + `":1,`)
		}
		keys := b.String()
		seeds = append(seeds,
			`{"jsonrpc":"2.0","method":"m","params":{`+keys+`"k":2}}`,
			`{"jsonrpc":"2.0","method":"m","params":{`+keys+`"end":2}}`,
			`{"jsonrpc":"2.0","method":"m","params":{`+keys+`"k\u0078":2}}`)
	}
	return seeds
}
