package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/config"
)

// Purpose separates what a sealed value is for. Each purpose has its own
// subkey, so a value sealed as a cookie can never be opened as a signing
// key or an upstream token even though one master key made both: an
// attacker who gets us to seal chosen data for one purpose (a cookie
// value) cannot replay it where another purpose is trusted.
type Purpose string

// The purposes mcpgate seals data for (SPEC SE-2).
const (
	PurposeCookie           Purpose = "cookie"
	PurposeState            Purpose = "state"
	PurposeSigningKey       Purpose = "signing-key"
	PurposeUpstreamToken    Purpose = "upstream-token"
	PurposeRefreshSuccessor Purpose = "refresh-successor"
)

var purposes = []Purpose{PurposeCookie, PurposeState, PurposeSigningKey, PurposeUpstreamToken, PurposeRefreshSuccessor}

// KeySize is the size of a master key: AES-256.
const KeySize = 32

// version prefixes every sealed value, so the format can change later
// without guessing what old values are.
const version byte = 1

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
	active string
	aeads  map[string]map[Purpose]cipher.AEAD // key ID -> purpose -> AEAD
}

// New builds a keyring. Every key must be KeySize bytes with a unique,
// non-empty ID of at most 255 bytes, and active must name one of them.
func New(keys []Key, active string) (*Keyring, error) {
	k := &Keyring{active: active, aeads: make(map[string]map[Purpose]cipher.AEAD, len(keys))}
	for _, key := range keys {
		if key.ID == "" || len(key.ID) > 255 {
			return nil, fmt.Errorf("seal: key ID %q must be 1-255 bytes", key.ID)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("seal: duplicate key ID %q", key.ID)
		}
		if len(key.Secret) != KeySize {
			return nil, fmt.Errorf("seal: key %q must be %d bytes, not %d", key.ID, KeySize, len(key.Secret))
		}
		byPurpose, err := subkeys(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("seal: key %q: %w", key.ID, err)
		}
		k.aeads[key.ID] = byPurpose
	}
	if _, ok := k.aeads[active]; !ok {
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

// subkeys derives one AES-256-GCM AEAD per purpose with HKDF-SHA256
// (RFC 5869), the purpose as info.
func subkeys(master []byte) (map[Purpose]cipher.AEAD, error) {
	out := make(map[Purpose]cipher.AEAD, len(purposes))
	for _, p := range purposes {
		sub, err := hkdf.Key(sha256.New, master, nil, "mcpgate seal v1 "+string(p), KeySize)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(sub)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		out[p] = aead
	}
	return out, nil
}

// Seal encrypts plaintext for purpose p under the active key. aad binds the
// value to its context (a record ID, a cookie name): a sealed value copied
// onto another record does not open there. The result is
// version | len(kid) | kid | nonce | ciphertext+tag.
func (k *Keyring) Seal(p Purpose, plaintext, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[k.active][p]
	if !ok {
		return nil, fmt.Errorf("seal: unknown purpose %q", p)
	}
	kid := k.active
	head := make([]byte, 0, 2+len(kid)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	head = append(head, version, byte(len(kid)))
	head = append(head, kid...)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand, Go 1.24+)
	out := append(head, nonce...)
	return aead.Seal(out, nonce, plaintext, additional(head, aad)), nil
}

// Open decrypts a value sealed for purpose p with any key of the ring. Any
// failure is ErrOpen.
func (k *Keyring) Open(p Purpose, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != version {
		return nil, ErrOpen
	}
	n := int(sealed[1])
	if len(sealed) < 2+n {
		return nil, ErrOpen
	}
	head, rest := sealed[:2+n], sealed[2+n:]
	aead, ok := k.aeads[string(head[2:])][p]
	if !ok || len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	nonce, ct := rest[:aead.NonceSize()], rest[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, ct, additional(head, aad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// ActiveKeyID names the key Seal uses.
func (k *Keyring) ActiveKeyID() string { return k.active }

// additional authenticates the header (so the key ID cannot be swapped)
// together with the caller's context, length-prefixed so the two cannot be
// re-split.
func additional(head, aad []byte) []byte {
	out := make([]byte, 0, 4+len(head)+len(aad))
	out = append(out, byte(len(head)>>8), byte(len(head)))
	out = append(out, head...)
	return append(out, aad...)
}
