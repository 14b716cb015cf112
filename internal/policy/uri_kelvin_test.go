package policy

import "testing"

// TestCanonicalURIKelvin: an authority spelled with the Kelvin sign
// (U+212A) is not lower-cased onto the ASCII 'k', so a rule on the ASCII
// authority does not cover a different one.
func TestCanonicalURIKelvin(t *testing.T) {
	got, ok := CanonicalURI("https://\u212Aeep.example/x")
	if !ok || got != "https://\u212Aeep.example/x" {
		t.Fatalf("CanonicalURI = %q, %v; want the authority unchanged", got, ok)
	}
	if got, _ := CanonicalURI("HTTPS://KEEP.example/x"); got != "https://keep.example/x" {
		t.Fatalf("ASCII upper case not lowered: %q", got)
	}
}
