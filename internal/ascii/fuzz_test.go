package ascii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzFold checks Lower and EqualFold against a reference: on ASCII input
// they agree with the strings package, Lower never changes a non-ASCII
// byte nor the length, and EqualFold(a, b) is exactly Lower(a) == Lower(b).
func FuzzFold(f *testing.F) {
	f.Add("HTTPS://App.Example", "https://app.example")
	f.Add("\u212Aeep", "keep")
	f.Add("tool\u017F", "TOOLS")
	f.Add("\xff\xfeA", "\xff\xfea")
	f.Fuzz(func(t *testing.T, a, b string) {
		la := Lower(a)
		if len(la) != len(a) {
			t.Fatalf("Lower(%q) changed the length", a)
		}
		for i := 0; i < len(a); i++ {
			if a[i] >= 0x80 && la[i] != a[i] {
				t.Fatalf("Lower(%q) changed non-ASCII byte %d", a, i)
			}
		}
		if isASCII(a) && la != strings.ToLower(a) {
			t.Fatalf("Lower(%q) = %q, strings.ToLower = %q", a, la, strings.ToLower(a))
		}
		if got, want := EqualFold(a, b), la == Lower(b); got != want {
			t.Fatalf("EqualFold(%q, %q) = %v, Lower comparison says %v", a, b, got, want)
		}
		if isASCII(a) && isASCII(b) && EqualFold(a, b) != strings.EqualFold(a, b) {
			t.Fatalf("EqualFold(%q, %q) disagrees with strings.EqualFold on ASCII", a, b)
		}
		if utf8.ValidString(a) && !utf8.ValidString(la) {
			t.Fatalf("Lower(%q) broke UTF-8", a)
		}
	})
}
