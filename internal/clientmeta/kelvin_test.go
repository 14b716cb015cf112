package clientmeta

import "testing"

// TestAllowedDomainsASCIIOnly: a CIMD client_id whose host spells an
// allowed domain with the Kelvin sign (U+212A, 'k' under Unicode
// folding) is not on the allow-list. CheckClientIDURL refuses the
// non-ASCII host first; the allow-list's ASCII-only fold is defence in
// depth should that check ever loosen.
func TestAllowedDomainsASCIIOnly(t *testing.T) {
	f := &Fetcher{AllowedDomains: []string{"keep.example"}}
	if err := f.checkTarget("https://\u212Aeep.example/client.json"); err == nil {
		t.Fatal("a Kelvin-sign lookalike of an allowed domain passed")
	}
	if err := f.checkTarget("https://KEEP.example/client.json"); err != nil {
		t.Fatalf("ASCII upper case of an allowed domain refused: %v", err)
	}
}
