package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
	"github.com/mcpgate/mcpgate/internal/storage/sqlstore"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

const (
	testIssuer   = "https://auth.example.com"
	testResource = "https://mcp.example.com/mcp"
	testKID      = "test-es256"
)

// testKeys is an in-test KeySource: one ES256 key, published under testKID.
type testKeys struct {
	priv   *ecdsa.PrivateKey
	signer jose.Signer // for typ at+jwt
	extra  map[string]jose.JSONWebKey
}

func newTestKeys(t testing.TB) *testKeys {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &testKeys{priv: priv, extra: map[string]jose.JSONWebKey{}}
	k.signer = k.newSigner(t, TypeAccessToken)
	return k
}

func (k *testKeys) newSigner(t testing.TB, typ string) jose.Signer {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.ES256,
		Key:       jose.JSONWebKey{Key: k.priv, KeyID: testKID, Algorithm: "ES256", Use: "sig"},
	}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (k *testKeys) Sign(payload []byte, typ string) (string, error) {
	if typ != TypeAccessToken {
		panic("testKeys signs at+jwt only; use newSigner")
	}
	obj, err := k.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (k *testKeys) PublicKey(kid string) (jose.JSONWebKey, bool) {
	if kid == testKID {
		return jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: testKID, Algorithm: "ES256", Use: "sig"}, true
	}
	j, ok := k.extra[kid]
	return j, ok
}

// newClock starts half-way through a second, so second truncation of iat
// and of the user epoch is exercised.
func newClock() *clock.Clock {
	return clock.New(time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC))
}

// fixture wires a Minter, a Verifier with a ready cache, and a Refresher
// on one store and one clock.
type fixture struct {
	clk   *clock.Clock
	store storage.Store
	keys  *testKeys
	cache *RevocationCache
	mint  *Minter
	ver   *Verifier
	ref   *Refresher
}

func newFixture(t testing.TB, store storage.Store) *fixture {
	t.Helper()
	f := &fixture{clk: newClock(), store: store, keys: newTestKeys(t)}
	f.cache = NewRevocationCache(store, CacheOptions{Now: f.clk.Now})
	if err := f.cache.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.mint = &Minter{Issuer: testIssuer, Keys: f.keys, Now: f.clk.Now}
	f.ver = &Verifier{Issuer: testIssuer, Keys: f.keys, Revoked: f.cache, Now: f.clk.Now}
	f.ref = &Refresher{
		Store: store, Revocations: store, Seal: testKeyring(t), Cache: f.cache, Now: f.clk.Now,
		TTL: 24 * time.Hour, IdleTimeout: time.Hour, Grace: 10 * time.Second,
	}
	return f
}

func testKeyring(t testing.TB) *seal.Keyring {
	t.Helper()
	secret := make([]byte, seal.KeySize)
	rand.Read(secret)
	k, err := seal.New([]seal.Key{{ID: "k1", Secret: secret}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testGrant() Grant {
	return Grant{
		Subject: "local:alice", ClientID: "client-a", Resource: testResource, FamilyID: "fam-1",
		ProviderID: "local", Scopes: []string{"tools:read", "tools:call"}, Groups: []string{"eng"},
		AuthTime: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC),
	}
}

// mustMint mints g or fails the test.
func (f *fixture) mustMint(t testing.TB, g Grant) (string, Claims) {
	t.Helper()
	tok, c, err := f.mint.Mint(g)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return tok, c
}

// backends runs fn on the memory store and on SQLite in a temp dir.
func backends(t *testing.T, fn func(t *testing.T, s storage.Store)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		fn(t, memory.New())
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, openSQLite(t))
	})
}

func openSQLite(t testing.TB) storage.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), "sqlite", filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Forging, for the attack tests: a JWS with any header and signature.

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

var b64 = base64.RawURLEncoding

// forge builds a compact JWS from any header and payload, signed by sign
// over the JWS signing input (nil sign: empty signature).
func forge(t *testing.T, h header, payload []byte, sign func([]byte) []byte) string {
	t.Helper()
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(payload)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64.EncodeToString(sig)
}

// es256 signs as ES256 does (RFC 7518 §3.4: R || S, 32 bytes each).
func es256(t *testing.T, priv *ecdsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		sum := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
}

func hs256(key []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return m.Sum(nil)
	}
}
