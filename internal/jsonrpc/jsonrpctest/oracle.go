// Package jsonrpctest holds the two reference JSON readers that the
// inspector's fuzz oracles compare it with (SPEC §10): Go's
// case-insensitive, last-duplicate-wins struct decoding, and an
// exact-key, first-duplicate-wins reader like many non-Go parsers. A body
// the inspector accepts must mean the same method, name and uri to both,
// or an upstream could execute something other than what policy decided.
package jsonrpctest

import (
	"bytes"
	"encoding/json"
	"errors"
)

// View is what a decision reads from one message.
type View struct {
	Method, Name, URI string
	Arguments         json.RawMessage
}

// Decided keeps name or uri only for the methods decided on them, as the
// inspector reports them.
func Decided(v View) View {
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

// Folded decodes body as Go code that skipped the inspector would: struct
// fields matched case-insensitively, the last duplicate winning.
func Folded(body []byte, batch bool) ([]View, error) {
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
	out := make([]View, len(msgs))
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

// First reads body with exact key matching, the first duplicate winning.
// It reports method, name and uri (not arguments).
func First(body []byte) ([]View, error) {
	r := reader{json.NewDecoder(bytes.NewReader(body))}
	tok, err := r.next()
	if err != nil {
		return nil, err
	}
	if tok == json.Delim('{') {
		v, err := r.object(true)
		return []View{v}, err
	}
	var out []View
	for r.dec.More() {
		if _, err := r.next(); err != nil { // the element's {
			return nil, err
		}
		v, err := r.object(true)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

type reader struct{ dec *json.Decoder }

func (r reader) next() (json.Token, error) { return r.dec.Token() }

// object reads an object whose { was consumed, keeping the first string
// value of method (top level) or name and uri (in params).
func (r reader) object(top bool) (View, error) {
	var v View
	seen := map[string]bool{}
	for r.dec.More() {
		kt, err := r.next()
		if err != nil {
			return v, err
		}
		key, ok := kt.(string)
		if !ok {
			return v, errors.New("object key is not a string")
		}
		tok, err := r.next()
		if err != nil {
			return v, err
		}
		first := !seen[key]
		seen[key] = true
		s, isString := tok.(string)
		switch {
		case top && first && key == "params" && tok == json.Delim('{'):
			p, err := r.object(false)
			if err != nil {
				return v, err
			}
			v.Name, v.URI = p.Name, p.URI
			continue
		case top && first && isString && key == "method":
			v.Method = s
		case !top && first && isString && key == "name":
			v.Name = s
		case !top && first && isString && key == "uri":
			v.URI = s
		}
		if err := r.skip(tok); err != nil {
			return v, err
		}
	}
	_, err := r.next() // }
	return v, err
}

// skip consumes the rest of a value whose first token was tok.
func (r reader) skip(tok json.Token) error {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := r.next()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}
