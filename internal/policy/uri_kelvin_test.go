package policy

import "testing"

// TestCanonicalURIKelvin: an authority spelled with the Kelvin sign
// (U+212A), or any non-ASCII byte, has no canonical form: an IDNA-mapping
// upstream would read it as keep.example, past a deny rule on that host.
// It is refused (the proxy answers Forbidden), never passed as another
// host.
func TestCanonicalURIKelvin(t *testing.T) {
	for _, uri := range []string{"https://\u212Aeep.example/x", "https://caf\u00e9.example/", "file://h\u00f4te/x"} {
		if got, ok := CanonicalURI(uri); ok {
			t.Errorf("CanonicalURI(%q) = %q, accepted; want refused", uri, got)
		}
	}
	if got, ok := CanonicalURI("https://xn--caf-dma.example/x"); !ok || got != "https://xn--caf-dma.example/x" {
		t.Fatalf("punycode host: %q, %v", got, ok)
	}
	if got, _ := CanonicalURI("HTTPS://KEEP.example/x"); got != "https://keep.example/x" {
		t.Fatalf("ASCII upper case not lowered: %q", got)
	}
}
