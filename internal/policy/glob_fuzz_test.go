package policy

import (
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzGlob: a rule's match pattern, compiled, agrees with path.Match on
// every name without '/' (path.Match is the documented syntax; '/' is the
// one intended difference), is refused exactly when path.Match refuses
// it (or is not UTF-8: a regexp reads every invalid byte as U+FFFD, so
// one invalid byte in a pattern would match any other), and matches by exact code points: a name differing from a literal
// pattern only by Unicode case folding ("toolſ" for "tools", the Kelvin
// sign for 'k') is a different tool.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"secret_*", "secret_x"}, {"tools", "tool\u017f"}, {"kill", "\u212aill"},
		{"[a-c]?", "b\u00e9"}, {`\*a`, "*a"}, {"[^x]*", "y"}, {"a[", "a"}, {"*", "\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		re, err := compileGlob(pattern)
		_, perr := path.Match(pattern, "")
		if !utf8.ValidString(pattern) {
			if err == nil {
				t.Fatalf("pattern %q is not UTF-8 but compiled", pattern)
			}
			return
		}
		if pattern != "" && (err == nil) != (perr == nil) {
			t.Fatalf("pattern %q: compileGlob err %v, path.Match err %v", pattern, err, perr)
		}
		if err != nil {
			return
		}
		got := re.MatchString(name)
		if !strings.Contains(name, "/") && !strings.Contains(pattern, "/") {
			if want, merr := path.Match(pattern, name); merr == nil && got != want {
				t.Fatalf("glob %q on %q = %v, path.Match says %v", pattern, name, got, want)
			}
		}
		if !strings.ContainsAny(pattern, `*?[\`) && got != (pattern == name) {
			t.Fatalf("literal pattern %q on %q = %v", pattern, name, got)
		}
	})
}
