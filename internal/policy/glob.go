package policy

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// compileGlob turns a rule's match pattern into an anchored regular
// expression. The syntax is path.Match's (*, ?, [class], [^class], \
// escapes) and a pattern path.Match refuses is refused here. One
// difference, on purpose: '*', '?' and classes also match '/'. Names are
// flat tool and prompt names or resource URIs, not file paths; with
// path.Match a rule "*" (deny everything, say) would silently skip
// "file:///etc/passwd", and "docs/*" would skip "docs/a/b", letting the call
// fall through to a later rule or to no rule at all.
func compileGlob(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, errors.New("empty match pattern")
	}
	if !utf8.ValidString(pattern) {
		// A regexp reads an invalid byte as U+FFFD, which matches every
		// invalid byte of a name: "t\xd80" would match "t\xdf0".
		return nil, fmt.Errorf("invalid match pattern %q: not UTF-8", pattern)
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("invalid match pattern %q (path.Match syntax): %w", pattern, err)
	}
	var b strings.Builder
	b.WriteString(`\A(?s:`)
	for i := 0; i < len(pattern); {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(`.*`)
			i++
		case '?':
			b.WriteString(`.`)
			i++
		case '[':
			n, err := writeClass(&b, pattern[i:])
			if err != nil {
				return nil, fmt.Errorf("invalid match pattern %q: %w", pattern, err)
			}
			i += n
		default:
			if c == '\\' {
				i++ // path.Match accepted it, so an escaped character follows
			}
			r, size := utf8.DecodeRuneInString(pattern[i:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += size
		}
	}
	b.WriteString(`)\z`)
	return regexp.Compile(b.String())
}

// writeClass translates the character class at the start of s ("[...]")
// and returns how many bytes it used. An inverted range ("[9-0]") is
// valid to path.Match and matches nothing; a regexp refuses it, so it is
// left out, and a class left empty matches nothing (or, negated, any
// character), as in path.Match.
func writeClass(b *strings.Builder, s string) (int, error) {
	i := 1
	negated := i < len(s) && s[i] == '^'
	if negated {
		i++
	}
	var items strings.Builder
	for first := true; ; first = false {
		if i >= len(s) {
			return 0, errors.New("unterminated character class")
		}
		if s[i] == ']' && !first {
			switch {
			case items.Len() > 0 && negated:
				fmt.Fprintf(b, "[^%s]", items.String())
			case items.Len() > 0:
				fmt.Fprintf(b, "[%s]", items.String())
			case negated:
				b.WriteString(`[\x{0}-\x{10ffff}]`)
			default:
				b.WriteString(`[^\x{0}-\x{10ffff}]`)
			}
			return i + 1, nil
		}
		lo, n := classChar(s[i:])
		i += n
		hi := lo
		if i < len(s) && s[i] == '-' {
			hi, n = classChar(s[i+1:])
			i += 1 + n
		}
		if lo <= hi {
			fmt.Fprintf(&items, `\x{%x}-\x{%x}`, lo, hi)
		}
	}
}

// classChar reads one possibly escaped character of a class.
func classChar(s string) (rune, int) {
	if len(s) > 0 && s[0] == '\\' {
		r, n := utf8.DecodeRuneInString(s[1:])
		return r, n + 1
	}
	return utf8.DecodeRuneInString(s)
}
