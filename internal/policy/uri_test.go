package policy

import "testing"

func TestCanonicalURI(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"file:///srv/secret/key", "file:///srv/secret/key", true},
		{"FILE:///srv/secret/key", "file:///srv/secret/key", true},
		{"file:///srv/%73ecret/key", "file:///srv/secret/key", true},
		{"file:///a/b%20c", "file:///a/b c", true},
		{"HTTPS://Example.COM/A/b?Q=1#F", "https://example.com/A/b?Q=1#F", true},
		{"demo://readme", "demo://readme", true},
		{"urn:isbn:0451450523", "urn:isbn:0451450523", true},
		{"file:///srv/", "file:///srv/", true},
		{"file:///srv/public/../secret/key", "", false},
		{"file:///srv/./secret/key", "", false},
		{"file:///srv//secret/key", "", false},
		{"file:///srv/%2e%2e/secret", "", false},
		{"file:///srv%2Fsecret/key", "", false},
		{"file:///srv/%252e", "", false},
		{"file:///srv/%zz", "", false},
		{"file:///srv/%7", "", false},
		{`file:///srv\secret`, "", false},
		{"file:///srv/%00", "", false},
		{"no-scheme", "", false},
		{":nothing", "", false},
	} {
		got, ok := CanonicalURI(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("CanonicalURI(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzCanonicalURI: a canonical form is a fixed point (canonicalising it
// again changes nothing), holds no dot or empty inner segment in its path,
// and never comes from input with a backslash.
func FuzzCanonicalURI(f *testing.F) {
	for _, s := range []string{"file:///a/b", "FILE:///a/%62", "https://H/x?y#z", "a:b", "x:///%2e%2e/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := CanonicalURI(in)
		if !ok {
			return
		}
		again, ok2 := CanonicalURI(out)
		if !ok2 && !containsPercent(out) {
			t.Fatalf("canonical %q of %q does not canonicalise again", out, in)
		}
		if ok2 && again != out && !containsPercent(out) {
			t.Fatalf("not a fixed point: %q -> %q -> %q", in, out, again)
		}
		for i := 0; i < len(in); i++ {
			if in[i] == '\\' && !inQueryOrFragment(in, i) {
				t.Fatalf("accepted a backslash: %q", in)
			}
		}
	})
}

func containsPercent(s string) bool {
	for i := range len(s) {
		if s[i] == '%' {
			return true
		}
	}
	return false
}

func inQueryOrFragment(s string, i int) bool {
	for j := 0; j < i; j++ {
		if s[j] == '?' || s[j] == '#' {
			return true
		}
	}
	return false
}
