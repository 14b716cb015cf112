package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// The signing algorithms (SPEC AS-5: ES256 by default, EdDSA and RS256
// selectable).
const (
	ES256 = "ES256" // ECDSA P-256 with SHA-256 (RFC 7518 §3.4)
	EdDSA = "EdDSA" // Ed25519 (RFC 8037 §3.1)
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 3072-bit keys (RFC 7518 §3.3)
)

// rsaBits is the size of generated RSA keys: 3072 bits is NIST's level for
// use past 2030 (SP 800-57 part 1, table 2).
const rsaBits = 3072

// generate makes a new private key for alg.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case RS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return nil, fmt.Errorf("keys: unsupported algorithm %q (want %s, %s or %s)", alg, ES256, EdDSA, RS256)
}

// algorithmOf names the algorithm a private key is for, and refuses keys we
// would never have generated. The algorithm column of a stored key is not
// sealed, so it is checked against the key itself: a row claiming RS256 for
// an EC key, or an RSA key under 2048 bits, is refused.
func algorithmOf(k any) (string, error) {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return ES256, nil
		}
	case ed25519.PrivateKey:
		return EdDSA, nil
	case *rsa.PrivateKey:
		if k.N.BitLen() >= 2048 {
			return RS256, nil
		}
	}
	return "", fmt.Errorf("unsupported private key type %T", k)
}

// newKID returns a random key ID: 128 bits, base64url, so it cannot be
// guessed and needs no escaping in a JOSE header or URL.
func newKID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newKey makes a key for alg that is published from now and signs from
// activeAt. The private part is stored only sealed, bound to its kid
// (the AAD), so a sealed blob copied onto another row does not open there.
func newKey(kr *seal.Keyring, alg string, now, activeAt time.Time) (storage.SigningKey, error) {
	priv, err := generate(alg)
	if err != nil {
		return storage.SigningKey{}, err
	}
	kid := newKID()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: marshal private key: %w", err)
	}
	// The clear is hygiene only: the key itself stays in memory (Go
	// cannot wipe big.Int or ecdsa internals); the DER copy need not.
	defer clear(der)
	sealed, err := kr.Seal(seal.PurposeSigningKey, der, []byte(kid))
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: seal private key: %w", err)
	}
	pub, err := publicJWK(priv, kid, alg).MarshalJSON()
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: marshal public key: %w", err)
	}
	return storage.SigningKey{
		ID: kid, Algorithm: alg, PublicJWK: pub, PrivateSealed: sealed,
		CreatedAt: now, ActiveAt: activeAt,
	}, nil
}

func publicJWK(priv crypto.Signer, kid, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}
}

// opened is a stored key whose private part has been unsealed: what Sign
// and PublicKey need, kept so that no call unseals or parses anything.
type opened struct {
	pub     jose.JSONWebKey // public part only; safe to hand out
	pubJSON []byte          // pub as a JWK (RFC 7517 §4), for the JWKS
	priv    jose.JSONWebKey
	alg     jose.SignatureAlgorithm
	// signers caches one jose.Signer per typ header. Callers pass a few
	// fixed typ values ("at+jwt"), so it stays tiny.
	signers sync.Map
}

// open unseals and checks a stored key.
//
// The public key is derived from the private one, never taken from the
// PublicJWK column. That column is not sealed: someone able to write to the
// database but without our seal keys could otherwise add a row whose public
// key is their own and have every instance publish it and accept the tokens
// they sign. A row is trusted only if its private part opens with our
// keyring under its own kid, and its stored public key must match.
func open(kr *seal.Keyring, k storage.SigningKey) (*opened, error) {
	der, err := kr.Open(seal.PurposeSigningKey, k.PrivateSealed, []byte(k.ID))
	if err != nil {
		return nil, fmt.Errorf("keys: private part of key %q does not open with the configured secrets (was a seal key removed?): %w", k.ID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: key %q: %w", k.ID, err)
	}
	alg, err := algorithmOf(parsed)
	if err != nil || alg != k.Algorithm {
		return nil, fmt.Errorf("keys: key %q: private key does not match algorithm %q", k.ID, k.Algorithm)
	}
	priv := parsed.(crypto.Signer)
	pub := publicJWK(priv, k.ID, alg)
	if err := sameKey(pub, k.PublicJWK); err != nil {
		return nil, fmt.Errorf("keys: key %q: %w", k.ID, err)
	}
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("keys: key %q: %w", k.ID, err)
	}
	return &opened{
		pub:     pub,
		pubJSON: pubJSON,
		priv:    jose.JSONWebKey{Key: priv, KeyID: k.ID, Algorithm: alg, Use: "sig"},
		alg:     jose.SignatureAlgorithm(alg),
	}, nil
}

// sameKey checks that the stored public JWK names the same key (RFC 7638
// thumbprint), kid and algorithm as the one derived from the private part.
func sameKey(derived jose.JSONWebKey, stored []byte) error {
	var s jose.JSONWebKey
	if err := s.UnmarshalJSON(stored); err != nil {
		return fmt.Errorf("stored public key: %w", err)
	}
	want, err := derived.Thumbprint(crypto.SHA256)
	if err != nil {
		return err
	}
	got, err := s.Thumbprint(crypto.SHA256)
	if err != nil || !bytes.Equal(got, want) || s.KeyID != derived.KeyID || s.Algorithm != derived.Algorithm {
		return errors.New("stored public key does not match the private key")
	}
	return nil
}

// signer returns the cached signer for typ, building it on first use.
func (o *opened) signer(typ string) (jose.Signer, error) {
	if s, ok := o.signers.Load(typ); ok {
		return s.(jose.Signer), nil
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	// The key is a JSONWebKey with KeyID set, so go-jose puts kid in the
	// protected header next to alg.
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: o.alg, Key: o.priv}, opts)
	if err != nil {
		return nil, fmt.Errorf("keys: signer for %q: %w", o.priv.KeyID, err)
	}
	actual, _ := o.signers.LoadOrStore(typ, s)
	return actual.(jose.Signer), nil
}
