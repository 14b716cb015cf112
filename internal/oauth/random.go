package oauth

import (
	"crypto/rand"
	"encoding/base64"
)

// randomID returns 128 random bits, base64url: IDs that must not be
// guessable (pending authorizations, DCR client IDs, refresh families).
func randomID() string { return randomString(16) }

// randomSecret returns 256 random bits, base64url: bearer secrets
// (authorization codes, client secrets, upstream state).
func randomSecret() string { return randomString(32) }

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
