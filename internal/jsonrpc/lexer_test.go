package jsonrpc

import (
	"bytes"
	"testing"
)

// TestSkipPlain checks the word-at-a-time scan stops at every byte that is
// not plain, at every offset of a word, and skips every plain byte.
func TestSkipPlain(t *testing.T) {
	for c := range 256 {
		for at := range 19 {
			b := bytes.Repeat([]byte{'a'}, 19)
			b[at] = byte(c)
			want := len(b)
			if !plain[c] {
				want = at
			}
			for from := 0; from <= at; from++ {
				if got := skipPlain(b, from); got != want {
					t.Fatalf("byte %#x at %d, from %d: got %d, want %d", c, at, from, got, want)
				}
			}
		}
	}
}
