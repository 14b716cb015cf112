package scope

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// tokenRE is the RFC 6749 §3.3 grammar, the reference.
var tokenRE = regexp.MustCompile(`\A[\x21\x23-\x5B\x5D-\x7E]+\z`)

// TestSeparatorIsSpaceOnly: tabs, NBSP and other Unicode spaces neither
// separate scopes nor pass as part of one.
func TestSeparatorIsSpaceOnly(t *testing.T) {
	for _, raw := range []string{"read\tadmin", "read\u00a0admin", "read\u2003admin", "read\nadmin", `a"b`, `a\b`} {
		if got, err := Parse(raw); err == nil {
			t.Errorf("Parse(%q) = %q, want ErrSyntax", raw, got)
		}
		if got := Tokens(raw); len(got) != 0 {
			t.Errorf("Tokens(%q) = %q, want none", raw, got)
		}
	}
	if got, err := Parse("  read  write read "); err != nil || !slices.Equal(got, []string{"read", "write"}) {
		t.Errorf("Parse = %q, %v", got, err)
	}
}

// reference splits on SP and checks each token against tokenRE.
func reference(raw string) (all []string, valid []string) {
	for _, tok := range strings.Split(raw, " ") {
		if tok == "" || slices.Contains(all, tok) {
			continue
		}
		all = append(all, tok)
		if tokenRE.MatchString(tok) {
			valid = append(valid, tok)
		}
	}
	return all, valid
}

// FuzzScopeParse checks Parse and Tokens against reference: Parse accepts
// exactly the strings whose SP-separated tokens all match the grammar
// and returns them deduplicated in order; Tokens returns the valid ones;
// and joining Parse's output with SP parses back to itself (round trip).
func FuzzScopeParse(f *testing.F) {
	for _, s := range []string{"", "openid profile", "read\tadmin", "a  b a", "x\u00a0y", `q"`, "\\", "~!#[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		all, valid := reference(raw)
		got, err := Parse(raw)
		if (err == nil) != (len(all) == len(valid)) {
			t.Fatalf("Parse(%q) err %v; reference tokens %q, valid %q", raw, err, all, valid)
		}
		if err == nil && !slices.Equal(got, valid) {
			t.Fatalf("Parse(%q) = %q, reference %q", raw, got, valid)
		}
		if tk := Tokens(raw); !slices.Equal(tk, valid) {
			t.Fatalf("Tokens(%q) = %q, reference %q", raw, tk, valid)
		}
		if err == nil {
			back, err := Parse(strings.Join(got, " "))
			if err != nil || !slices.Equal(back, got) {
				t.Fatalf("round trip of %q: %q, %v", got, back, err)
			}
		}
	})
}
