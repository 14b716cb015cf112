package ascii

import (
	"testing"
)

// TestNoUnicodeFolding: the characters Unicode folds onto ASCII letters
// stay distinct; ASCII letters fold.
func TestNoUnicodeFolding(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"HTTPS://App.Example", "https://app.example", true},
		{"\u212Aeep", "keep", false},   // Kelvin sign
		{"tool\u017F", "tools", false}, // long s
		{"\u0130", "i", false},         // dotted capital I
		{"a", "ab", false},
		{"", "", true},
	} {
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := Lower(c.a) == Lower(c.b); got != c.want {
			t.Errorf("Lower(%q) == Lower(%q) is %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
