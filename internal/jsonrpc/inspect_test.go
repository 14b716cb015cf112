package jsonrpc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// codeOf returns the JSON-RPC code of err, or 0 when err is nil.
func codeOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not *Error", err)
	}
	return e.Code
}

func TestInspectRefusals(t *testing.T) {
	const P, R, IP = CodeParseError, CodeInvalidRequest, CodeInvalidParams
	tests := []struct {
		name, body string
		code       int
	}{
		{"empty body", ``, P},
		{"syntax error", `{"jsonrpc":"2.0",`, P},
		{"trailing data", `{"jsonrpc":"2.0","method":"m"} {}`, P},
		{"invalid UTF-8 in value", "{\"jsonrpc\":\"2.0\",\"method\":\"a\xffb\"}", P},
		{"invalid UTF-8 in key", "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"\xc0\":1}", P},
		{"scalar", `"hello"`, R},
		{"empty batch", `[]`, R},
		{"batch of non-objects", `[1]`, R},
		{"nested batch", `[[{"jsonrpc":"2.0","method":"m"}]]`, R},
		{"batch with one bad element", `[{"jsonrpc":"2.0","method":"m"},{"jsonrpc":"1.0","method":"m"}]`, R},
		{"batch element with duplicate", `[{"jsonrpc":"2.0","method":"m"},{"jsonrpc":"2.0","method":"a","method":"b"}]`, R},
		{"duplicate method", `{"jsonrpc":"2.0","method":"tools/list","method":"tools/call","id":1}`, R},
		{"duplicate id", `{"jsonrpc":"2.0","method":"m","id":1,"id":2}`, R},
		{"duplicate unknown top key", `{"jsonrpc":"2.0","method":"m","x":1,"x":2}`, R},
		{"duplicate params", `{"jsonrpc":"2.0","method":"m","params":{},"params":{}}`, R},
		{"duplicate params.name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"safe","name":"rm"}}`, R},
		{"duplicate params.uri", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a","uri":"b"}}`, R},
		{"duplicate deep key", `{"jsonrpc":"2.0","method":"m","params":{"arguments":{"a":{"b":1,"b":2}}}}`, R},
		{"duplicate via escape", `{"jsonrpc":"2.0","method":"a","m\u0065thod":"b"}`, R},
		{"Method beside method", `{"jsonrpc":"2.0","method":"tools/list","Method":"tools/call","id":1}`, R},
		{"only METHOD", `{"jsonrpc":"2.0","METHOD":"tools/call","id":1,"result":{}}`, R},
		{"JSONRPC", `{"JSONRPC":"2.0","jsonrpc":"2.0","method":"m"}`, R},
		{"Id", `{"jsonrpc":"2.0","method":"m","Id":1}`, R},
		{"ID", `{"jsonrpc":"2.0","method":"m","id":1,"ID":2}`, R},
		{"Params", `{"jsonrpc":"2.0","method":"m","Params":{}}`, R},
		{"params with long s", `{"jsonrpc":"2.0","method":"m","param\u017f":{}}`, R},
		{"Result", `{"jsonrpc":"2.0","id":1,"Result":{},"error":{}}`, R},
		{"Error", `{"jsonrpc":"2.0","id":1,"result":{},"Error":{}}`, R},
		{"Name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}`, R},
		{"only NAME", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"NAME":"b"}}`, R},
		{"URI", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a","URI":"b"}}`, R},
		{"Uri", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"Uri":"b"}}`, R},
		{"Arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Arguments":{}}}`, R},
		{"missing jsonrpc", `{"method":"m"}`, R},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","method":"m"}`, R},
		{"jsonrpc number", `{"jsonrpc":2.0,"method":"m"}`, R},
		{"method number", `{"jsonrpc":"2.0","method":1}`, R},
		{"method null", `{"jsonrpc":"2.0","method":null}`, R},
		{"method lone surrogate", `{"jsonrpc":"2.0","method":"tools/call\ud800"}`, R},
		{"id object", `{"jsonrpc":"2.0","method":"m","id":{}}`, R},
		{"id bool", `{"jsonrpc":"2.0","method":"m","id":true}`, R},
		{"request id null", `{"jsonrpc":"2.0","method":"m","id":null}`, R},
		{"params string", `{"jsonrpc":"2.0","method":"m","params":"x"}`, R},
		{"params null", `{"jsonrpc":"2.0","method":"m","params":null}`, R},
		{"name number", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":1}}`, R},
		{"name on other method not string", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"name":null}}`, R},
		{"uri object", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":{}}}`, R},
		{"name lone surrogate", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm\udfff"}}`, R},
		{"tools/call without name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}`, IP},
		{"tools/call positional params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["rm"]}`, IP},
		{"prompts/get without params", `{"jsonrpc":"2.0","id":1,"method":"prompts/get"}`, IP},
		{"resources/read without uri", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"name":"x"}}`, IP},
		{"request with result", `{"jsonrpc":"2.0","id":1,"method":"m","result":{}}`, R},
		{"request with error", `{"jsonrpc":"2.0","id":1,"method":"m","error":{}}`, R},
		{"neither method nor id", `{"jsonrpc":"2.0","result":{}}`, R},
		{"response without result or error", `{"jsonrpc":"2.0","id":1}`, R},
		{"response with both", `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, R},
		{"response error not object", `{"jsonrpc":"2.0","id":1,"error":"x"}`, R},
		{"response with params", `{"jsonrpc":"2.0","id":1,"result":{},"params":{}}`, R},
		{"nesting 65 deep", nested(64), R},
		{"nesting 5000 deep", nested(5000), R},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := Inspect([]byte(tt.body))
			if got := codeOf(t, err); got != tt.code {
				t.Fatalf("code = %d, want %d (err %v, inspection %+v)", got, tt.code, err, in)
			}
		})
	}
}

func TestInspectAccepts(t *testing.T) {
	tests := []struct {
		name, body string
		want       []Message
	}{
		{"tools/call", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"rm","arguments":{"path":"/"}}}`,
			[]Message{{Kind: KindRequest, Method: "tools/call", ID: []byte(`7`), Name: "rm", Arguments: []byte(`{"path":"/"}`)}}},
		{"whitespace everywhere", " {\n \"jsonrpc\" : \"2.0\" , \"id\" : \"a\" , \"method\" : \"prompts/get\" , \"params\" : { \"name\" : \"p\" } } \n",
			[]Message{{Kind: KindRequest, Method: "prompts/get", ID: []byte(`"a"`), Name: "p"}}},
		{"resources/read", `{"jsonrpc":"2.0","id":-1.5e3,"method":"resources/read","params":{"uri":"file:///etc"}}`,
			[]Message{{Kind: KindRequest, Method: "resources/read", ID: []byte(`-1.5e3`), URI: "file:///etc"}}},
		{"escaped keys and values", `{"jsonrpc":"2.0","id":1,"m\u0065thod":"tools\/call","params":{"name":"\u0072m"}}`,
			[]Message{{Kind: KindRequest, Method: "tools/call", ID: []byte(`1`), Name: "rm"}}},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			[]Message{{Kind: KindNotification, Method: "notifications/initialized"}}},
		{"positional params", `{"jsonrpc":"2.0","method":"x","params":[1,2]}`,
			[]Message{{Kind: KindNotification, Method: "x"}}},
		{"response", `{"jsonrpc":"2.0","id":3,"result":{"Result":1,"result":{"a":1}}}`,
			[]Message{{Kind: KindResponse, ID: []byte(`3`)}}},
		{"error response with null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}`,
			[]Message{{Kind: KindResponse, ID: []byte(`null`)}}},
		{"case variants below params are data", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"Name":1,"name":2,"METHOD":3}}}`,
			[]Message{{Kind: KindRequest, Method: "tools/call", ID: []byte(`1`), Name: "t", Arguments: []byte(`{"Name":1,"name":2,"METHOD":3}`)}}},
		{"64 deep", nested(63), []Message{{Kind: KindNotification, Method: "m"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			orig := bytes.Clone(body)
			in, err := Inspect(body)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if in.Batch || !equalMessages(in.Messages, tt.want) {
				t.Fatalf("got %+v, want %+v", in, tt.want)
			}
			if !bytes.Equal(body, orig) {
				t.Fatal("Inspect modified the body")
			}
		})
	}
}

func TestInspectBatch(t *testing.T) {
	body := `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},` +
		`{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":"s","result":{}}]`
	in, err := Inspect([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []Message{
		{Kind: KindRequest, Method: "tools/call", ID: []byte(`1`), Name: "a"},
		{Kind: KindNotification, Method: "notifications/x"},
		{Kind: KindResponse, ID: []byte(`"s"`)},
	}
	if !in.Batch || !equalMessages(in.Messages, want) {
		t.Fatalf("got %+v", in)
	}
	_, err = Inspect([]byte(`[{"jsonrpc":"2.0","method":"m"},{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}]`))
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidParams || !strings.HasPrefix(e.Message, "batch element 1: ") {
		t.Fatalf("err = %v, want invalid params naming element 1", err)
	}
}

func equalMessages(a, b []Message) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind != y.Kind || x.Method != y.Method || x.Name != y.Name || x.URI != y.URI ||
			!bytes.Equal(x.ID, y.ID) || !bytes.Equal(x.Arguments, y.Arguments) {
			return false
		}
	}
	return true
}

// nested returns a notification whose params are n nested arrays, so the
// body is n+1 levels deep.
func nested(n int) string {
	return `{"jsonrpc":"2.0","method":"m","params":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
}
