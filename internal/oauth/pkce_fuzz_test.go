package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"testing"
)

// verifierRE is RFC 7636 §4.1: code-verifier = 43*128unreserved.
var verifierRE = regexp.MustCompile(`\A[A-Za-z0-9\-._~]{43,128}\z`)

// TestS256ChallengeCanonical: a challenge whose last character carries
// bits no SHA-256 has is refused at the authorization request, rather
// than accepted and then matched by no verifier at all.
func TestS256ChallengeCanonical(t *testing.T) {
	sum := sha256.Sum256([]byte("a-verifier-that-is-long-enough-for-rfc-7636-ok"))
	c := base64.RawURLEncoding.EncodeToString(sum[:])
	if !validS256Challenge(c) {
		t.Fatalf("canonical challenge %q refused", c)
	}
	bad := c[:42] + "B" // 'B' sets a bit past the 256th
	if c[42] != 'B' && validS256Challenge(bad) {
		t.Fatalf("non-canonical challenge %q accepted", bad)
	}
}

// FuzzPKCE checks PKCE against RFC 7636 written independently: a
// challenge is valid exactly when it is the canonical unpadded base64url
// of 32 bytes, and a verifier matches exactly when it is 43-128
// unreserved characters whose SHA-256, so encoded, is the challenge.
func FuzzPKCE(f *testing.F) {
	v := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	sum := sha256.Sum256([]byte(v))
	c := base64.RawURLEncoding.EncodeToString(sum[:])
	f.Add(v, c)
	f.Add(v, c[:42]+"B")
	f.Add(v+"=", c)
	f.Add("short", c)
	f.Add(v+"é", c)
	f.Fuzz(func(t *testing.T, verifier, challenge string) {
		raw, err := base64.RawURLEncoding.Strict().DecodeString(challenge)
		wantValid := err == nil && len(raw) == 32 && base64.RawURLEncoding.EncodeToString(raw) == challenge
		if got := validS256Challenge(challenge); got != wantValid {
			t.Fatalf("validS256Challenge(%q) = %v, reference %v", challenge, got, wantValid)
		}
		sum := sha256.Sum256([]byte(verifier))
		want := verifierRE.MatchString(verifier) && base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
		if got := verifyPKCE(verifier, challenge); got != want {
			t.Fatalf("verifyPKCE(%q, %q) = %v, reference %v", verifier, challenge, got, want)
		}
	})
}
