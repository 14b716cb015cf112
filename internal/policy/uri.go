package policy

import (
	"strings"

	"github.com/mcpgate/mcpgate/internal/ascii"
)

// CanonicalURI is the form of a resource URI that rules are matched
// against, or false when the URI cannot be put in one safely. An upstream
// that resolves paths (a filesystem server, a URI template such as
// file:///{+path}) reads file:///srv/public/../secret/key,
// file:///srv/%73ecret/key, file:///srv//secret/key and
// FILE:///srv/secret/key as the same file; matched raw, each would slip
// past a rule on file:///srv/secret/*. So the scheme and authority are
// lower-cased (A-Z only: Unicode would lower the Kelvin sign U+212A to
// 'k', so a rule allowing https://keep.example/* would also allow a
// different authority) and the path percent-decoded, and what has no single
// reading is refused: dot segments, empty segments inside the path, an
// encoded '/', a backslash, a NUL, and broken escapes. Query and fragment
// are kept as sent.
func CanonicalURI(uri string) (string, bool) {
	colon := strings.IndexByte(uri, ':')
	if colon <= 0 {
		return "", false
	}
	scheme, rest := ascii.Lower(uri[:colon]), uri[colon+1:]
	if !validScheme(scheme) {
		return "", false
	}
	tail := ""
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest, tail = rest[:i], rest[i:]
	}
	authority := ""
	if r, ok := strings.CutPrefix(rest, "//"); ok {
		end := strings.IndexByte(r, '/')
		if end < 0 {
			end = len(r)
		}
		authority, rest = "//"+ascii.Lower(r[:end]), r[end:]
		if strings.ContainsAny(authority, "\\%\x00") {
			return "", false
		}
		// A non-ASCII authority has no one canonical form: an upstream
		// applying IDNA mapping reads "\u212Aeep.example" (Kelvin sign) as
		// keep.example, which a rule on keep.example would not cover here.
		// It is refused; real hosts are sent in their ASCII (punycode) form.
		for i := 0; i < len(authority); i++ {
			if authority[i] >= 0x80 {
				return "", false
			}
		}
	}
	path, ok := decodePath(rest)
	if !ok {
		return "", false
	}
	return scheme + ":" + authority + path + tail, true
}

// decodePath percent-decodes p and checks its segments.
func decodePath(p string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || unhex(p[i+1]) < 0 || unhex(p[i+2]) < 0 {
				return "", false
			}
			c = byte(unhex(p[i+1])<<4 | unhex(p[i+2]))
			if c == '/' || c == '%' {
				return "", false // an encoded separator or a double encoding
			}
			i += 2
		}
		if c == '\\' || c == 0 {
			return "", false
		}
		b.WriteByte(c)
	}
	out := b.String()
	segs := strings.Split(out, "/")
	for i, s := range segs {
		inner := i > 0 && i < len(segs)-1
		if s == "." || s == ".." || (s == "" && inner) {
			return "", false
		}
	}
	return out, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// validScheme: RFC 3986 §3.1, ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ),
// already lower-cased.
func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
