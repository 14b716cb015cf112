package jsonrpc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// view is what a decision reads from one message: the fields a second
// parser must agree on.
type view struct {
	Method, Name, URI string
	Arguments         json.RawMessage
}

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
		got := make([]view, len(in.Messages))
		for i, m := range in.Messages {
			got[i] = view{m.Method, m.Name, m.URI, m.Arguments}
		}
		folded, err := foldedViews(body, in.Batch)
		if err != nil {
			t.Fatalf("accepted body fails encoding/json: %v", err)
		}
		compare(t, "case-insensitive decoder", got, folded)
		compare(t, "first-occurrence decoder", got, firstViews(t, body))
	})
}

func compare(t *testing.T, who string, got, want []view) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s sees %d messages, Inspect %d", who, len(want), len(got))
	}
	for i := range got {
		g, w := got[i], decided(want[i])
		if g.Method != w.Method || g.Name != w.Name || g.URI != w.URI {
			t.Fatalf("message %d: Inspect %+v, %s %+v", i, g, who, w)
		}
		if w.Arguments != nil && !bytes.Equal(g.Arguments, w.Arguments) {
			t.Fatalf("message %d: arguments %s, %s %s", i, g.Arguments, who, w.Arguments)
		}
	}
}

// decided keeps name or uri only for the methods decided on them, as
// Inspect reports them.
func decided(v view) view {
	switch v.Method {
	case "tools/call", "prompts/get":
		v.URI = ""
	case "resources/read":
		v.Name = ""
	default:
		v.Name, v.URI = "", ""
	}
	return v
}

// foldedViews decodes body the way Go code would if it skipped Inspect:
// struct fields, matched case-insensitively, last duplicate wins.
func foldedViews(body []byte, batch bool) ([]view, error) {
	type msg struct {
		Method string
		Params json.RawMessage
	}
	var msgs []msg
	if batch {
		if err := json.Unmarshal(body, &msgs); err != nil {
			return nil, err
		}
	} else {
		msgs = make([]msg, 1)
		if err := json.Unmarshal(body, &msgs[0]); err != nil {
			return nil, err
		}
	}
	out := make([]view, len(msgs))
	for i, m := range msgs {
		out[i].Method = m.Method
		var p struct {
			Name, URI string
			Arguments json.RawMessage
		}
		if len(m.Params) > 0 && m.Params[0] == '{' {
			if err := json.Unmarshal(m.Params, &p); err != nil {
				return nil, err
			}
		}
		out[i].Name, out[i].URI, out[i].Arguments = p.Name, p.URI, p.Arguments
	}
	return out, nil
}

// firstViews decodes body with exact key matching, first duplicate wins.
func firstViews(t *testing.T, body []byte) []view {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok := next(t, dec)
	if tok == json.Delim('{') {
		return []view{firstObject(t, dec, true)}
	}
	var out []view
	for dec.More() {
		next(t, dec) // {
		out = append(out, firstObject(t, dec, true))
	}
	return out
}

// firstObject reads an object whose { was consumed, keeping the first
// string value of method (top level) or name and uri (params).
func firstObject(t *testing.T, dec *json.Decoder, top bool) view {
	var v view
	seen := map[string]bool{}
	for dec.More() {
		key := next(t, dec).(string)
		tok := next(t, dec)
		first := !seen[key]
		seen[key] = true
		s, isString := tok.(string)
		switch {
		case top && first && key == "params" && tok == json.Delim('{'):
			p := firstObject(t, dec, false)
			v.Name, v.URI = p.Name, p.URI
			continue
		case top && first && isString && key == "method":
			v.Method = s
		case !top && first && isString && key == "name":
			v.Name = s
		case !top && first && isString && key == "uri":
			v.URI = s
		}
		skip(t, dec, tok)
	}
	next(t, dec) // }
	return v
}

// skip consumes the rest of a value whose first token was tok.
func skip(t *testing.T, dec *json.Decoder, tok json.Token) {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return
	}
	for depth := 1; depth > 0; {
		switch next(t, dec) {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

func next(t *testing.T, dec *json.Decoder) json.Token {
	tok, err := dec.Token()
	if err != nil {
		t.Fatalf("accepted body fails the first-occurrence decoder: %v", err)
	}
	return tok
}
