package clientmeta

import "encoding/json"

// MaxJSONDepth bounds how deeply a registration body or a client ID
// metadata document may nest arrays and objects. Client metadata is flat:
// its deepest legitimate member is a JWK Set ({"keys":[{"x5c":[...]}]},
// four levels inside the document, five counting the document). A body
// nested deeper is not client metadata but an attempt to make the parser
// (or whoever later reads a stored, echoed member) do unbounded work, so
// it is refused whole rather than silently ignored.
const MaxJSONDepth = 10

// maxJWKSDepth is the depth of a JWK Set: the set object, its "keys"
// array, a key object, and an array member of a key (x5c, key_ops).
const maxJWKSDepth = 4

// Depth returns how deeply raw nests arrays and objects (0 for a scalar,
// 1 for a flat object). It does not validate raw: brackets inside strings
// are skipped, anything else is counted as it comes, which is enough to
// bound the work a later full parse may do.
func Depth(raw []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// CheckDepth refuses a document nested deeper than MaxJSONDepth.
func CheckDepth(raw []byte) error {
	if Depth(raw) > MaxJSONDepth {
		return invalid("the client metadata is nested too deeply")
	}
	return nil
}

// jwksShape reports whether jwks is a JWK Set as RFC 7517 §5 defines it:
// an object whose "keys" member is an array of objects, whose members are
// scalars or arrays of strings (x5c, key_ops), nested no deeper than a set
// can be. Anything else (a junk value stored and echoed back to whoever
// reads the registration) is refused.
func jwksShape(jwks json.RawMessage) bool {
	if Depth(jwks) > maxJWKSDepth {
		return false
	}
	var set map[string]json.RawMessage
	if json.Unmarshal(jwks, &set) != nil {
		return false
	}
	var keys []map[string]any
	if json.Unmarshal(set["keys"], &keys) != nil || keys == nil {
		return false
	}
	for _, k := range keys {
		if k == nil {
			return false
		}
		for _, v := range k {
			switch v := v.(type) {
			case string, bool, float64:
				// Scalars: registered members such as "ext" (a boolean,
				// RFC 7517 §4 via WebCrypto's exportKey("jwk")).
			case []any:
				for _, e := range v {
					if _, ok := e.(string); !ok {
						return false
					}
				}
			default:
				return false
			}
		}
	}
	return true
}
