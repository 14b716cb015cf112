package scope

import (
	"errors"
	"slices"
	"strings"
)

// ErrSyntax: a scope string with a character no scope-token may hold.
var ErrSyntax = errors.New("scope: invalid scope-token")

// ValidToken reports whether s is one RFC 6749 §3.3 scope-token.
func ValidToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Parse splits a scope parameter on single spaces, dropping empty tokens
// (runs of spaces, a leading or trailing one: harmless and sent by some
// clients) and duplicates, keeping first-seen order. Any other character
// outside the scope-token set, tab and non-ASCII spaces included, makes
// the whole string invalid (ErrSyntax): the request is refused, not
// guessed at.
func Parse(raw string) ([]string, error) {
	var out []string
	for tok := range strings.SplitSeq(raw, " ") {
		if tok == "" {
			continue
		}
		if !ValidToken(tok) {
			return nil, ErrSyntax
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, nil
}

// Tokens reads a scope claim of a token (RFC 9068 scope, RFC 7662
// scope): the space-separated tokens that are valid scope-tokens, in
// order, without duplicates. An invalid token grants nothing and is
// dropped; it is never split further.
func Tokens(raw string) []string {
	var out []string
	for tok := range strings.SplitSeq(raw, " ") {
		if ValidToken(tok) && !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out
}
