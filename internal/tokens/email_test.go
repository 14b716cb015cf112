package tokens

import (
	"encoding/json"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

// An email reaches a token only when the provider verified it (SPEC PX-7,
// PX-8): an unverified address would let anyone who typed it into an IdP
// profile pass a policy users rule naming it.
func TestMintEmailOnlyWhenVerified(t *testing.T) {
	f := newFixture(t, memory.New())
	for _, tc := range []struct {
		what      string
		email     string
		verified  bool
		wantEmail string
	}{
		{"verified", "alice@example.com", true, "alice@example.com"},
		{"unverified", "alice@example.com", false, ""},
		{"verified but empty", "", true, ""},
		{"none", "", false, ""},
	} {
		t.Run(tc.what, func(t *testing.T) {
			g := testGrant()
			g.Email, g.EmailVerified = tc.email, tc.verified
			tok, minted := f.mustMint(t, g)
			got, err := f.ver.Verify(t.Context(), tok, testResource)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			wantVerified := tc.wantEmail != ""
			for _, c := range []Claims{minted, got} {
				if c.Email != tc.wantEmail || c.EmailVerified != wantVerified {
					t.Errorf("email = %q, email_verified = %v; want %q, %v", c.Email, c.EmailVerified, tc.wantEmail, wantVerified)
				}
			}
			raw := wireClaims(t, tok)
			if e, ok := raw["email"]; ok != wantVerified || (ok && e != tc.wantEmail) {
				t.Errorf("wire email = %#v (present %v); want %q", e, ok, tc.wantEmail)
			}
			if v, ok := raw["email_verified"]; ok != wantVerified || (ok && v != true) {
				t.Errorf("wire email_verified = %#v (present %v); want true only with an email", v, ok)
			}
		})
	}
}

func wireClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(obj.UnsafePayloadWithoutVerification(), &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}
