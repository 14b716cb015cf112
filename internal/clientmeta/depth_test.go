package clientmeta

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// TestDepth counts nesting and ignores brackets inside strings, escaped
// quotes included.
func TestDepth(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{`1`, 0}, {`"[[["`, 0}, {`{}`, 1}, {`{"a":[1,{"b":[]}]}`, 4},
		{`{"a":"\"[[[["}`, 1}, {`{"a":"\\","b":[[]]}`, 3}, {nested(11), 11},
	} {
		if got := Depth([]byte(c.in)); got != c.want {
			t.Errorf("Depth(%s) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestValidateRefusesJunkJWKS: a registration once echoed back a deeply
// nested jwks value. jwks must now be a JWK Set of flat keys.
func TestValidateRefusesJunkJWKS(t *testing.T) {
	base := `{"redirect_uris":["https://app.example.com/cb"],"jwks":%s}`
	for name, jwks := range map[string]string{
		"nested":       `{"keys":[{"kty":"EC","x":` + nested(8) + `}]}`,
		"deep array":   nested(9),
		"not a set":    `{"a":1}`,
		"keys not arr": `{"keys":{"kty":"EC"}}`,
		"object key":   `{"keys":[{"kty":"EC","x":{"a":"b"}}]}`,
		"null key":     `{"keys":[null]}`,
		"nested x5c":   `{"keys":[{"kty":"EC","x5c":[["a"]]}]}`,
	} {
		var m Metadata
		if err := json.Unmarshal([]byte(strings.Replace(base, "%s", jwks, 1)), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var e *Error
		if err := DefaultPolicy().Validate(&m); !errors.As(err, &e) || e.Code != CodeInvalidClientMetadata {
			t.Errorf("%s: Validate = %v, want invalid_client_metadata", name, err)
		}
	}
	var m Metadata
	json.Unmarshal([]byte(strings.Replace(base, "%s", `{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","x5c":["c"]}]}`, 1)), &m)
	if err := DefaultPolicy().Validate(&m); err != nil {
		t.Fatalf("a real JWK Set is refused: %v", err)
	}
	// WebCrypto's exportKey("jwk") adds "ext": true (and key_ops).
	m = Metadata{}
	json.Unmarshal([]byte(strings.Replace(base, "%s", `{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","ext":true,"key_ops":["verify"]}]}`, 1)), &m)
	if err := DefaultPolicy().Validate(&m); err != nil {
		t.Fatalf("a WebCrypto-exported JWK Set is refused: %v", err)
	}
}

// TestCheckDepth: MaxJSONDepth levels pass, one more is refused.
func TestCheckDepth(t *testing.T) {
	if err := CheckDepth([]byte(nested(MaxJSONDepth))); err != nil {
		t.Fatalf("depth %d refused: %v", MaxJSONDepth, err)
	}
	var e *Error
	if err := CheckDepth([]byte(nested(MaxJSONDepth + 1))); !errors.As(err, &e) || e.Code != CodeInvalidClientMetadata {
		t.Fatalf("depth %d: %v, want invalid_client_metadata", MaxJSONDepth+1, err)
	}
}

// FuzzDepth: for every valid JSON text, Depth agrees with the depth a real
// JSON tokenizer sees (the oracle), so no string trick hides nesting.
func FuzzDepth(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":[]}]}`, `"\"[["`, `["\\",[["]"]]]`, nested(12), `{"keys":[{"x5c":["a"]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			Depth(raw) // must not panic
			return
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // a valid number too large for a float64 is still a token
		depth, deepest := 0, 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("valid JSON fails to tokenize: %v", err)
			}
			if d, ok := tok.(json.Delim); ok {
				if d == '{' || d == '[' {
					depth++
					deepest = max(deepest, depth)
				} else {
					depth--
				}
			}
		}
		if got := Depth(raw); got != deepest {
			t.Fatalf("Depth(%q) = %d, tokenizer says %d", raw, got, deepest)
		}
	})
}
