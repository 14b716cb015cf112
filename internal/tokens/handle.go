package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// Refresh handles are "<id>.<secret>" (SPEC AS-6): id is 16 random bytes
// and names the stored token; secret is 32 random bytes of which only the
// SHA-256 is stored. Both are unpadded base64url. A plain hash suffices
// (no slow KDF): the secret has 256 bits of entropy, so a stolen database
// cannot be brute-forced back into usable handles.
const (
	handleIDBytes     = 16
	handleSecretBytes = 32
)

// handleEncoding refuses non-canonical trailing bits, so every handle has
// exactly one spelling.
var handleEncoding = base64.RawURLEncoding.Strict()

// ParseHandle splits a refresh handle into its token ID and secret. It
// accepts exactly the form newHandle produces and nothing else.
func ParseHandle(h string) (id string, secret []byte, ok bool) {
	id, s, found := strings.Cut(h, ".")
	if !found || len(id) != handleEncoding.EncodedLen(handleIDBytes) ||
		len(s) != handleEncoding.EncodedLen(handleSecretBytes) {
		return "", nil, false
	}
	var idBytes [handleIDBytes]byte
	if n, err := handleEncoding.Decode(idBytes[:], []byte(id)); err != nil || n != handleIDBytes {
		return "", nil, false
	}
	secret = make([]byte, handleSecretBytes)
	if n, err := handleEncoding.Decode(secret, []byte(s)); err != nil || n != handleSecretBytes {
		return "", nil, false
	}
	return id, secret, true
}

// newHandle returns a fresh token ID, the hash of its secret and the
// handle the client receives.
func newHandle() (id string, secretHash []byte, handle string) {
	var secret [handleSecretBytes]byte
	rand.Read(secret[:]) // never fails (crypto/rand, Go 1.24+)
	id = randomB64(handleIDBytes)
	sum := sha256.Sum256(secret[:])
	return id, sum[:], id + "." + handleEncoding.EncodeToString(secret[:])
}

// secretMatches compares the presented secret's hash with the stored one
// in constant time. The lookup before it is by ID, which carries no part
// of the secret, so its timing reveals nothing secret; this compare is
// constant time so that its timing cannot reveal how much of a guessed
// hash prefix matched (dex server/tokens/refresh_lookup.go does the same).
func secretMatches(stored, secret []byte) bool {
	sum := sha256.Sum256(secret)
	return subtle.ConstantTimeCompare(sum[:], stored) == 1
}
