package jsonrpc

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// plain marks the bytes a string literal holds as themselves: not the
// closing quote, not a backslash, not a control character (RFC 8259 §7).
// Bytes from 0x80 up are plain: Inspect has checked the body is UTF-8.
var plain = func() (t [256]bool) {
	for c := ' '; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str consumes the string literal at s.pos and reports whether it holds an
// escape.
func (s *scanner) str() (escaped bool, err error) {
	b, i := s.body, s.pos+1
	for {
		if i = skipPlain(b, i); i >= len(b) {
			return false, errSyntax
		}
		switch b[i] {
		case '"':
			s.pos = i + 1
			return escaped, nil
		case '\\':
			n := escapeLen(b[i:])
			if n == 0 {
				return false, errSyntax
			}
			i += n
			escaped = true
		default: // a control character
			return false, errSyntax
		}
	}
}

// skipPlain returns the index of the first byte from i on that is not
// plain, or len(b). Most of a body is string content (tool arguments), so
// it tests eight bytes at a time: a word holds no quote, backslash or
// control character when none of its bytes is below 0x20 and none is zero
// after XOR with '"' or '\\' ("Determine if a word has a byte less than
// n", Bit Twiddling Hacks; exact for whether such a byte exists).
func skipPlain(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, bs := x^(ones*'"'), x^(ones*'\\')
		if ((x-ones*0x20)&^x|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			break
		}
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	return i
}

// escapeLen returns the length of the RFC 8259 §7 escape b starts with, or
// 0 when it is not one.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) >= 6 && hex4(b[2:6]) >= 0 {
			return 6
		}
	}
	return 0
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number consumes the RFC 8259 §6 number at s.pos.
func (s *scanner) number() error {
	b, i := s.body, s.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return errSyntax
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || !isDigit(b[i]) {
			return errSyntax
		}
		i = digits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return errSyntax
		}
		i = digits(b, i)
	}
	s.pos = i
	return nil
}

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// appendUnquoted appends the value of the string literal lit (quotes
// included, syntax checked by str) to dst, decoding escapes exactly as
// encoding/json does: an escaped surrogate that does not pair with the
// escape after it becomes U+FFFD, which cleanString then refuses in a
// decided-on string.
func appendUnquoted(dst, lit []byte) []byte {
	s := lit[1 : len(lit)-1]
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...)
		}
		dst, s = append(dst, s[:i]...), s[i:]
		switch c := s[1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[2:6])
			s = s[6:]
			if utf16.IsSurrogate(r) {
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					if pair := utf16.DecodeRune(r, hex4(s[2:6])); pair != utf8.RuneError {
						dst, s = utf8.AppendRune(dst, pair), s[6:]
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // " \ /
			dst = append(dst, c)
		}
		s = s[2:]
	}
}
