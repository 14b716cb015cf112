package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/mcpgate/mcpgate/internal/config"
)

// Purpose separates what a sealed value is for. Each purpose derives its
// keys under its own HKDF label, so a value sealed as a cookie can never be
// opened as a signing key or an upstream token even though one master key
// made both: an attacker who gets us to seal chosen data for one purpose (a
// cookie value) cannot replay it where another purpose is trusted.
type Purpose string

// The purposes mcpgate seals data for (SPEC SE-2).
const (
	PurposeCookie           Purpose = "cookie"
	PurposeState            Purpose = "state"
	PurposeSigningKey       Purpose = "signing-key"
	PurposeUpstreamToken    Purpose = "upstream-token"
	PurposeRefreshSuccessor Purpose = "refresh-successor"
	PurposeMCPSession       Purpose = "mcp-session"
)

var purposes = []Purpose{PurposeCookie, PurposeState, PurposeSigningKey, PurposeUpstreamToken, PurposeRefreshSuccessor, PurposeMCPSession}

// KeySize is the size of a master key: AES-256.
const KeySize = 32

// version prefixes every sealed value, so the format can change later
// without guessing what old values are. Version 1 (one GCM key per
// purpose) was replaced before any release; its values do not open.
const version byte = 2

// label prefixes the HKDF info; it names the format so that no other
// version's derivation can ever yield the same key.
const label = "mcpgate seal v2 "

// The sizes of the per-message fields.
const (
	saltSize  = 24 // 192 bits: see messageAEAD
	nonceSize = 12 // GCM's standard nonce
	tagSize   = 16 // GCM's tag
)

// ErrOpen is the only error Open returns for bad input: a caller must not
// learn (or log, or show) whether the key ID, the tag or the length was
// wrong; to it, they are all "this was not sealed by us".
var ErrOpen = errors.New("seal: cannot open value")

// Key is a master key and its ID.
type Key struct {
	ID     string
	Secret []byte
}

// Keyring seals with the active key and opens with any key it holds, so
// keys can rotate: add a new key and make it active, keep the old one
// until nothing sealed by it is still needed (docs/operations.md).
type Keyring struct {
	active  string
	masters map[string][]byte // key ID -> secret
}

// New builds a keyring. Every key must be KeySize bytes with a unique,
// non-empty ID of at most 255 bytes, and active must name one of them.
func New(keys []Key, active string) (*Keyring, error) {
	k := &Keyring{active: active, masters: make(map[string][]byte, len(keys))}
	for _, key := range keys {
		if key.ID == "" || len(key.ID) > 255 {
			return nil, fmt.Errorf("seal: key ID %q must be 1-255 bytes", key.ID)
		}
		if _, dup := k.masters[key.ID]; dup {
			return nil, fmt.Errorf("seal: duplicate key ID %q", key.ID)
		}
		if len(key.Secret) != KeySize {
			return nil, fmt.Errorf("seal: key %q must be %d bytes, not %d", key.ID, KeySize, len(key.Secret))
		}
		// A copy, so a caller reusing its buffer cannot change our key.
		k.masters[key.ID] = slices.Clone(key.Secret)
	}
	if _, ok := k.masters[active]; !ok {
		return nil, fmt.Errorf("seal: active key %q is not among the keys", active)
	}
	return k, nil
}

// FromConfig builds the keyring the configuration names.
func FromConfig(s config.Secrets) (*Keyring, error) {
	keys := make([]Key, 0, len(s.Keys))
	for _, sk := range s.Keys {
		secret, err := sk.Key()
		if err != nil {
			return nil, fmt.Errorf("seal: key %q: %w", sk.ID, err)
		}
		keys = append(keys, Key{ID: sk.ID, Secret: secret})
	}
	return New(keys, s.Active)
}

// messageAEAD returns the AES-256-GCM AEAD for one sealed value: its key is
// HKDF-SHA256 (RFC 5869) of the master key, salted with the value's own
// random salt, the purpose in info.
//
// Why one key per value: under a single key, GCM with random 96-bit nonces
// may seal at most 2^32 messages (NIST SP 800-38D §8.3) before a nonce
// collision, which leaks the XOR of two plaintexts and the GHASH key,
// becomes too likely. Refresh successors alone are sealed on every refresh;
// at 1,500 seals/s a fixed key reaches the bound in about 33 days. Each
// derived key here seals one message, so that bound never comes near; two
// values share a key only if their 192-bit salts collide, which after
// 2^64 values has probability about 2^-65.
func messageAEAD(master, salt []byte, p Purpose) (cipher.AEAD, error) {
	key, err := messageKey(master, salt, p)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// messageKey derives the AES-256 key of one sealed value.
func messageKey(master, salt []byte, p Purpose) ([]byte, error) {
	return hkdf.Key(sha256.New, master, salt, label+string(p), KeySize)
}

// Seal encrypts plaintext for purpose p under the active key. aad binds the
// value to its context (a record ID, a cookie name): a sealed value copied
// onto another record does not open there. The result is
// version | len(kid) | kid | salt | nonce | ciphertext+tag.
//
// The nonce is random although each key seals one message, so a future
// change that reuses a derived key does not silently reuse a nonce too.
func (k *Keyring) Seal(p Purpose, plaintext, aad []byte) ([]byte, error) {
	if !slices.Contains(purposes, p) {
		return nil, fmt.Errorf("seal: unknown purpose %q", p)
	}
	kid := k.active
	out := make([]byte, 0, 2+len(kid)+saltSize+nonceSize+len(plaintext)+tagSize)
	out = append(out, version, byte(len(kid)))
	out = append(out, kid...)
	head := out
	out = out[:len(head)+saltSize+nonceSize]
	salt, nonce := out[len(head):len(head)+saltSize], out[len(head)+saltSize:]
	rand.Read(out[len(head):]) // salt and nonce; never fails (crypto/rand, Go 1.24+)
	aead, err := messageAEAD(k.masters[kid], salt, p)
	if err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, plaintext, additional(head, aad)), nil
}

// Open decrypts a value sealed for purpose p with any key of the ring. Any
// failure is ErrOpen.
func (k *Keyring) Open(p Purpose, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != version || !slices.Contains(purposes, p) {
		return nil, ErrOpen
	}
	n := 2 + int(sealed[1])
	if len(sealed) < n+saltSize+nonceSize+tagSize {
		return nil, ErrOpen
	}
	head := sealed[:n]
	master, ok := k.masters[string(head[2:])]
	if !ok {
		return nil, ErrOpen
	}
	salt := sealed[n : n+saltSize]
	nonce := sealed[n+saltSize : n+saltSize+nonceSize]
	aead, err := messageAEAD(master, salt, p)
	if err != nil {
		return nil, ErrOpen
	}
	plain, err := aead.Open(nil, nonce, sealed[n+saltSize+nonceSize:], additional(head, aad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// ActiveKeyID names the key Seal uses.
func (k *Keyring) ActiveKeyID() string { return k.active }

// additional authenticates the header (so the key ID cannot be swapped)
// together with the caller's context, length-prefixed so the two cannot be
// re-split. The salt needs no place here: it is bound by the key it
// derives, and any other salt yields a key the tag does not verify under.
func additional(head, aad []byte) []byte {
	out := make([]byte, 0, 2+len(head)+len(aad))
	out = append(out, byte(len(head)>>8), byte(len(head)))
	out = append(out, head...)
	return append(out, aad...)
}
