package stdio

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// FuzzChildLine checks what a child's stdout line becomes. Oracle: an
// accepted line is JSON; it yields one message per element (one for an
// object); each message, framed as an SSE event and read back by a WHATWG
// parser, is one event whose data is JSON equal to its element; and the
// kind and id used for routing agree with an independent reading.
func FuzzChildLine(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{}}`,
		"{\"jsonrpc\":\"2.0\",\r\"id\":\"a\",\r\"result\":\"x\\r\\ny\"}\r",
		`[{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7}},{"jsonrpc":"2.0","id":"s","method":"sampling/createMessage"}]`,
		`{"id":null,"error":{"code":-32700}}`,
		`not json`, `[]`, `[1]`, `{"method":3}`, "\t\n",
		"{\"id\":-0,\n\"result\":1}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		msgs, err := parseChildLine(raw)
		if len(bytes.TrimSpace(raw)) == 0 {
			if len(msgs) != 0 || err != nil {
				t.Fatalf("blank line: %d messages, %v", len(msgs), err)
			}
			return
		}
		elems, ok := elements(bytes.TrimSpace(raw))
		if err != nil {
			if ok && allClassifiable(elems) {
				t.Fatalf("refused a line of JSON-RPC-shaped objects: %q: %v", raw, err)
			}
			return
		}
		if !ok {
			t.Fatalf("accepted a line that is not JSON: %q", raw)
		}
		if len(msgs) != len(elems) {
			t.Fatalf("%d messages from %d elements", len(msgs), len(elems))
		}
		for i, m := range msgs {
			checkFramed(t, m.line, elems[i])
			var obj map[string]json.RawMessage
			json.Unmarshal(elems[i], &obj)
			kind, key := independentKind(obj)
			if m.kind != kind || (kind == jsonrpc.KindResponse && m.idKey != key) {
				t.Fatalf("message %s: kind %v key %q, want %v %q", elems[i], m.kind, m.idKey, kind, key)
			}
		}
	})
}

// FuzzPostBody checks the framing of accepted POST bodies. Oracle: one
// line per message of the body; each line is JSON equal to its message and
// holds no CR or LF; a message that held none is forwarded byte for byte.
func FuzzPostBody(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`,
		"[\n{\"jsonrpc\":\"2.0\",\"method\":\"n\"},\r\n{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{}}]",
		"{ \"jsonrpc\" : \"2.0\" ,\n \"id\" : 2 , \"method\" : \"ping\" , \"params\" : {\"_meta\":{\"progressToken\":\"t\"}} }",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		body, err := parseBody(raw)
		if err != nil {
			return
		}
		elems, ok := elements(raw)
		if !ok || len(elems) != len(body) {
			t.Fatalf("accepted %q as %d messages", raw, len(body))
		}
		lines := bytes.Split(bytes.TrimSuffix(body.joined(), []byte("\n")), []byte("\n"))
		if len(lines) != len(body) {
			t.Fatalf("%d lines for %d messages", len(lines), len(body))
		}
		for i, m := range body {
			if !bytes.Equal(lines[i], m.line) {
				t.Fatalf("line %d is %q, message is %q", i, lines[i], m.line)
			}
			checkFramed(t, m.line, elems[i])
			if !bytes.ContainsAny(elems[i], "\r\n") && !bytes.Equal(m.line, elems[i]) {
				t.Fatalf("message re-encoded: %q became %q", elems[i], m.line)
			}
		}
	})
}

// FuzzLineReader checks lineReader against splitting the whole input on
// '\n': the same lines in order, each cut to max with long set exactly
// when it was longer.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\n\nccc"), uint8(2))
	f.Add(bytes.Repeat([]byte("x"), 300), uint8(16))
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		if max == 0 {
			return
		}
		want := bytes.Split(data, []byte("\n"))
		if len(want[len(want)-1]) == 0 {
			want = want[:len(want)-1]
		}
		lr := newLineReader(bytes.NewReader(data), int(max))
		for i := 0; ; i++ {
			l, long, err := lr.next()
			if errors.Is(err, io.EOF) {
				if i != len(want) {
					t.Fatalf("%d lines, want %d", i, len(want))
				}
				return
			}
			if err != nil || i >= len(want) {
				t.Fatalf("line %d: %q, %v", i, l, err)
			}
			w := want[i]
			if len(w) > int(max) {
				w = w[:max]
			}
			if !bytes.Equal(l, w) || long != (len(want[i]) > int(max)) {
				t.Fatalf("line %d: %q long=%v, want %q of %d bytes", i, l, long, w, len(want[i]))
			}
		}
	})
}

// elements splits JSON text into its messages: the array's elements, or
// the value itself.
func elements(raw []byte) ([]json.RawMessage, bool) {
	if !json.Valid(raw) {
		return nil, false
	}
	var elems []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		return elems, json.Unmarshal(raw, &elems) == nil
	}
	return []json.RawMessage{raw}, true
}

// checkFramed: l has no CR or LF, reads back from an SSE event as itself,
// and is JSON equal to elem.
func checkFramed(t *testing.T, l line, elem json.RawMessage) {
	t.Helper()
	if bytes.ContainsAny(l, "\r\n") {
		t.Fatalf("framed message holds CR or LF: %q", l)
	}
	sc := newEventScanner(bytes.NewReader(sseEvent(l)))
	ev, err := sc.next()
	if err != nil || ev != string(l) {
		t.Fatalf("SSE event reads back as %q, %v; want %q", ev, err, l)
	}
	if _, err := sc.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("one message became more than one event: %v", err)
	}
	var got, want any
	if json.Unmarshal(l, &got) != nil || json.Unmarshal(elem, &want) != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("framed %q differs from %q", l, elem)
	}
}

// independentKind reads a message the way JSON-RPC 2.0 §4 defines it: a
// method makes a request (with an id) or a notification; otherwise an id
// makes a response.
func independentKind(obj map[string]json.RawMessage) (jsonrpc.Kind, string) {
	var method string
	json.Unmarshal(obj["method"], &method)
	_, hasID := obj["id"]
	switch {
	case method != "" && hasID:
		return jsonrpc.KindRequest, ""
	case method != "":
		return jsonrpc.KindNotification, ""
	}
	var id any
	dec := json.NewDecoder(bytes.NewReader(obj["id"]))
	dec.UseNumber()
	dec.Decode(&id)
	switch v := id.(type) {
	case string:
		return jsonrpc.KindResponse, "s:" + v
	case json.Number:
		if v == "-0" {
			return jsonrpc.KindResponse, "n:0"
		}
		return jsonrpc.KindResponse, "n:" + string(v)
	}
	return jsonrpc.KindResponse, ""
}

// allClassifiable: every element is an object whose method, if present, is
// a string, and which has a non-empty method or an id.
func allClassifiable(elems []json.RawMessage) bool {
	for _, e := range elems {
		var obj map[string]json.RawMessage
		if json.Unmarshal(e, &obj) != nil || obj == nil {
			return false
		}
		var method string
		if m, ok := obj["method"]; ok && json.Unmarshal(m, &method) != nil {
			return false
		}
		if _, hasID := obj["id"]; method == "" && !hasID {
			return false
		}
	}
	return true
}
