package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

var algorithms = []string{ES256, EdDSA, RS256}

// SPEC AS-5: ES256 by default, EdDSA and RS256 selectable; each token
// carries alg, kid and typ and verifies with the key PublicKey returns.
func TestSignRoundTripEachAlgorithm(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t)
			m := e.manager(t, memory.New(), func(o *Options) { o.Algorithm = alg })
			tok, err := m.Sign([]byte(`{"sub":"u"}`), "at+jwt")
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSignedCompact(tok, allAlgorithms)
			if err != nil {
				t.Fatal(err)
			}
			h := jws.Signatures[0].Protected
			if h.Algorithm != alg || h.ExtraHeaders[jose.HeaderType] != "at+jwt" || h.KeyID == "" {
				t.Fatalf("header alg=%q typ=%v kid=%q, want %s, at+jwt and a kid", h.Algorithm, h.ExtraHeaders[jose.HeaderType], h.KeyID, alg)
			}
			if _, payload, ok := verify(m, tok); !ok || string(payload) != `{"sub":"u"}` {
				t.Fatalf("verify: ok=%v payload=%s", ok, payload)
			}
			key, _ := m.PublicKey(h.KeyID)
			if key.Algorithm != alg || key.Use != "sig" || !key.IsPublic() {
				t.Fatalf("PublicKey: alg=%q use=%q public=%v", key.Algorithm, key.Use, key.IsPublic())
			}
			if _, _, ok := verify(m, tamper(t, tok)); ok {
				t.Fatal("a token with a changed payload verified")
			}
		})
	}
}

// tamper replaces a compact JWS's payload, keeping header and signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := bytes.Split([]byte(tok), []byte("."))
	parts[1] = []byte("eyJzdWIiOiJhZG1pbiJ9") // {"sub":"admin"}
	return string(bytes.Join(parts, []byte(".")))
}

func TestDefaultAlgorithmIsES256(t *testing.T) {
	m := newEnv(t).manager(t, memory.New())
	if got := storedKeys(t, m.o.Store)[0].Algorithm; got != ES256 {
		t.Fatalf("default algorithm %q, want ES256", got)
	}
}

// The JWKS is served to anyone: it must never carry a private member
// (RFC 7518 §6.2.2 "d", §6.3.2 "p", "q", "dp", "dq", "qi"; RFC 8037 "d").
func TestJWKSHasNoPrivateMembers(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			m := newEnv(t).manager(t, memory.New(), func(o *Options) { o.Algorithm = alg })
			if _, err := m.Rotate(t.Context()); err != nil {
				t.Fatal(err)
			}
			var doc struct{ Keys []map[string]any }
			if err := json.Unmarshal(m.JWKS(), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Keys) != 2 {
				t.Fatalf("JWKS has %d keys, want the active and the next", len(doc.Keys))
			}
			for _, k := range doc.Keys {
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
					if _, ok := k[private]; ok {
						t.Fatalf("JWKS key carries private member %q: %v", private, k)
					}
				}
				if k["alg"] != alg || k["use"] != "sig" || k["kid"] == "" {
					t.Fatalf("JWKS key lacks alg/use/kid: %v", k)
				}
			}
		})
	}
}

// SPEC OP-4: private parts are sealed at rest, bound to their kid.
func TestPrivateKeySealedAtRest(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			e, s := newEnv(t), memory.New()
			e.manager(t, s, func(o *Options) { o.Algorithm = alg })
			k := storedKeys(t, s)[0]
			der, err := e.seal.Open(seal.PurposeSigningKey, k.PrivateSealed, []byte(k.ID))
			if err != nil {
				t.Fatal(err)
			}
			for name, secret := range map[string][]byte{"PKCS#8": der, "private scalar": privateBytes(t, der)} {
				if bytes.Contains(k.PrivateSealed, secret) || bytes.Contains(k.PublicJWK, secret) {
					t.Fatalf("the %s bytes appear in the stored key", name)
				}
			}
			other := newKeyring(t, "s1") // same key ID, different secret
			if _, err := other.Open(seal.PurposeSigningKey, k.PrivateSealed, []byte(k.ID)); !errors.Is(err, seal.ErrOpen) {
				t.Fatalf("another keyring opened the key: %v", err)
			}
			if _, err := e.seal.Open(seal.PurposeSigningKey, k.PrivateSealed, []byte("another-kid")); !errors.Is(err, seal.ErrOpen) {
				t.Fatalf("the key opened under another kid: %v", err)
			}
			if _, err := New(t.Context(), Options{Store: s, Seal: other, Now: e.clock.Now}); err == nil {
				t.Fatal("New accepted a store whose live key does not open with its keyring")
			}
		})
	}
}

// privateBytes returns the secret scalar or seed inside a PKCS#8 key.
func privateBytes(t *testing.T, der []byte) []byte {
	t.Helper()
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	case ed25519.PrivateKey:
		return k.Seed()
	case *rsa.PrivateKey:
		return k.Primes[0].Bytes()
	}
	t.Fatalf("unexpected key type %T", k)
	return nil
}

// Someone who can write to the database but has no seal key must not get
// a key of their own published: the public key is derived from the sealed
// private part, and a row whose stored public key differs is refused.
func TestForeignPublicKeyIsNotTrusted(t *testing.T) {
	e, s := newEnv(t), memory.New()
	m := e.manager(t, s)
	attacker := newEnv(t).manager(t, memory.New())
	attackerKey := storedKeys(t, attacker.o.Store)[0]
	ours := storedKeys(t, s)[0]

	// A row with the attacker's public key and a sealed blob copied from
	// our key: the blob is bound to our kid, so it does not open here.
	forged := attackerKey
	forged.PrivateSealed = ours.PrivateSealed
	if err := s.CreateSigningKey(t.Context(), forged); err != nil {
		t.Fatal(err)
	}
	// Our own row with its public key swapped for the attacker's.
	if err := s.UpdateSigningKey(t.Context(), ours.ID, func(k storage.SigningKey) (storage.SigningKey, error) {
		k.PublicJWK = bytes.ReplaceAll(attackerKey.PublicJWK, []byte(attackerKey.ID), []byte(ours.ID))
		return k, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(t.Context()); err == nil {
		t.Fatal("Reload reported no problem with the forged rows")
	}
	tok, err := attacker.Sign([]byte(`{"sub":"admin"}`), "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := verify(m, tok); ok {
		t.Fatal("a token signed with the attacker's key verified")
	}
	if kids := jwksKIDs(t, m); len(kids) != 0 {
		t.Fatalf("JWKS publishes %v; neither row can be trusted", kids)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	e := newEnv(t)
	for name, edit := range map[string]func(*Options){
		"algorithm": func(o *Options) { o.Algorithm = "HS256" },
		"no store":  func(o *Options) { o.Store = nil },
		"no seal":   func(o *Options) { o.Seal = nil },
		"negative":  func(o *Options) { o.TokenTTL = -1 },
	} {
		o := e.options(memory.New())
		edit(&o)
		if _, err := New(t.Context(), o); err == nil {
			t.Errorf("%s: New accepted the options", name)
		}
	}
}
