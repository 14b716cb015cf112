package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

// Attacks on the verifier (RFC 8725 §2, RFC 9068 §4). Each asserts the
// rejection and, through the logged reason, that the check meant to stop
// it is the one that did.

// attackFixture returns a fixture and the claims of a valid token, as JSON.
func attackFixture(t *testing.T) (*fixture, Claims, []byte) {
	t.Helper()
	f := newFixture(t, memory.New())
	_, c := f.mustMint(t, testGrant())
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return f, c, payload
}

// wantInvalid asserts rejection as ErrInvalidToken (not revoked) whose
// reason names the check that should have fired.
func wantInvalid(t *testing.T, f *fixture, tok, reason string) {
	t.Helper()
	c, err := f.ver.Verify(t.Context(), tok, testResource)
	if !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrRevokedToken) {
		t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", c, err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("Verify error %q; want reason %q", err, reason)
	}
}

func TestAttackAlgNone(t *testing.T) {
	f, _, payload := attackFixture(t)
	for _, alg := range []string{"none", "None", "NONE", ""} {
		tok := forge(t, header{Alg: alg, Kid: testKID, Typ: "at+jwt"}, payload, nil)
		wantInvalid(t, f, tok, "algorithm not allowed")
	}
}

// The classic confusion: HS256 keyed with the public key's bytes, which a
// naive verifier would feed to HMAC because the header says so.
func TestAttackHS256WithPublicKey(t *testing.T) {
	f, _, payload := attackFixture(t)
	pub := &f.keys.priv.PublicKey
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: testKID})
	if err != nil {
		t.Fatal(err)
	}
	point, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	encodings := map[string][]byte{
		"pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"der": der, "jwk": jwk, "point": point,
	}
	for name, key := range encodings {
		t.Run(name, func(t *testing.T) {
			tok := forge(t, header{Alg: "HS256", Kid: testKID, Typ: "at+jwt"}, payload, hs256(key))
			wantInvalid(t, f, tok, "algorithm not allowed")
			// Even a key source that publishes those bytes as an HMAC key
			// (a buggy keys package) must not make it verify.
			f.keys.extra["sym"] = jose.JSONWebKey{Key: key, KeyID: "sym"}
			sym := forge(t, header{Alg: "HS256", Kid: "sym", Typ: "at+jwt"}, payload, hs256(key))
			wantInvalid(t, f, sym, "algorithm not allowed")
			f.ver = &Verifier{Issuer: testIssuer, Keys: f.keys, Revoked: f.cache, Now: f.clk.Now,
				Algorithms: []string{"ES256", "HS256", "none"}}
			wantInvalid(t, f, sym, "algorithm not allowed")
		})
	}
}

func TestAttackAlgorithmOutsideConfiguredList(t *testing.T) {
	f, _, _ := attackFixture(t)
	tok, _ := f.mustMint(t, testGrant())
	f.ver = &Verifier{Issuer: testIssuer, Keys: f.keys, Revoked: f.cache, Now: f.clk.Now, Algorithms: []string{"EdDSA"}}
	wantInvalid(t, f, tok, "algorithm not allowed")
}

// A key published for one algorithm must not verify another, even one on
// the allow-list: here a P-256 key published as "ES384".
func TestAttackKeyAlgMismatch(t *testing.T) {
	f, _, payload := attackFixture(t)
	f.keys.extra["mislabelled"] = jose.JSONWebKey{Key: &f.keys.priv.PublicKey, KeyID: "mislabelled", Algorithm: "ES384"}
	tok := forge(t, header{Alg: "ES256", Kid: "mislabelled", Typ: "at+jwt"}, payload, es256(t, f.keys.priv))
	wantInvalid(t, f, tok, "key does not fit alg")
}

func TestAttackUnknownKid(t *testing.T) {
	f, _, payload := attackFixture(t)
	tok := forge(t, header{Alg: "ES256", Kid: "no-such-key", Typ: "at+jwt"}, payload, es256(t, f.keys.priv))
	wantInvalid(t, f, tok, "unknown kid")
}

func TestAttackMissingKid(t *testing.T) {
	f, _, payload := attackFixture(t)
	tok := forge(t, header{Alg: "ES256", Typ: "at+jwt"}, payload, es256(t, f.keys.priv))
	wantInvalid(t, f, tok, "no kid")
}

// Flip a claim and keep the signature.
func TestAttackTamperedPayload(t *testing.T) {
	f, _, _ := attackFixture(t)
	tok, c := f.mustMint(t, testGrant())
	parts := strings.Split(tok, ".")
	for name, mutate := range map[string]func(*Claims){
		"sub":   func(c *Claims) { c.Subject = "local:mallory" },
		"scope": func(c *Claims) { c.Scope += " admin" },
		"exp":   func(c *Claims) { c.Expiry += 3600 },
	} {
		t.Run(name, func(t *testing.T) {
			m := c
			mutate(&m)
			p, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			wantInvalid(t, f, parts[0]+"."+b64.EncodeToString(p)+"."+parts[2], "bad signature")
		})
	}
}

func TestAttackExpired(t *testing.T) {
	f, _, _ := attackFixture(t)
	tok, c := f.mustMint(t, testGrant())
	// Accepted up to exp+skew (exclusive), then refused.
	f.clk.Advance(time.Unix(c.Expiry, 0).Sub(f.clk.Now()) + DefaultSkew - time.Millisecond)
	if _, err := f.ver.Verify(t.Context(), tok, testResource); err != nil {
		t.Fatalf("inside skew: %v", err)
	}
	f.clk.Advance(time.Millisecond)
	wantInvalid(t, f, tok, "expired")
}

func TestAttackNotYetValid(t *testing.T) {
	f, c, _ := attackFixture(t)
	c.NotBefore = f.clk.Now().Add(DefaultSkew + 2*time.Second).Unix()
	p, _ := json.Marshal(c)
	wantInvalid(t, f, forge(t, header{Alg: "ES256", Kid: testKID, Typ: "at+jwt"}, p, es256(t, f.keys.priv)), "not yet valid")

	// A token minted by a clock running ahead by more than the skew.
	ahead := &Minter{Issuer: testIssuer, Keys: f.keys, Now: func() time.Time { return f.clk.Now().Add(time.Minute) }}
	tok, _, err := ahead.Mint(testGrant())
	if err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, f, tok, "issued in the future")
}

func TestAttackWrongAudience(t *testing.T) {
	f, _, _ := attackFixture(t)
	tok, _ := f.mustMint(t, testGrant())
	for _, aud := range []string{"https://mcp.example.com/other", "https://evil.example.com/mcp",
		"https://mcp.example.com/mcp/x", "not a url", ""} {
		if _, err := f.ver.Verify(t.Context(), tok, aud); !errors.Is(err, ErrInvalidToken) ||
			!strings.Contains(err.Error(), "wrong audience") {
			t.Errorf("audience %q: err = %v; want wrong audience", aud, err)
		}
	}
}

func TestAttackWrongIssuer(t *testing.T) {
	f, _, _ := attackFixture(t)
	other := &Minter{Issuer: "https://evil.example.com", Keys: f.keys, Now: f.clk.Now}
	tok, _, err := other.Mint(testGrant())
	if err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, f, tok, "wrong issuer")
	// Exact match: a trailing slash is another issuer (RFC 8414 §2).
	f.ver.Issuer = testIssuer + "/"
	wantInvalid(t, f, f.tokenFor(t), "wrong issuer")
}

// An ID token or any other JWT signed by the same key is not an access
// token (RFC 8725 §3.11, RFC 9068 §4).
func TestAttackWrongTyp(t *testing.T) {
	f, _, payload := attackFixture(t)
	for _, typ := range []string{"JWT", "jwt", "", "at+jwt2", "application/jwt"} {
		tok := forge(t, header{Alg: "ES256", Kid: testKID, Typ: typ}, payload, es256(t, f.keys.priv))
		wantInvalid(t, f, tok, "typ is not at+jwt")
	}
	for _, typ := range []string{"at+JWT", "application/at+jwt", "Application/AT+JWT"} {
		tok := forge(t, header{Alg: "ES256", Kid: testKID, Typ: typ}, payload, es256(t, f.keys.priv))
		if _, err := f.ver.Verify(t.Context(), tok, testResource); err != nil {
			t.Errorf("typ %q: %v", typ, err)
		}
	}
}

// Compact serialisation only: a JSON serialisation, general with two
// signatures (one by the real key) or flattened, is refused.
func TestAttackJSONSerialization(t *testing.T) {
	f, _, payload := attackFixture(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	multi, err := jose.NewMultiSigner([]jose.SigningKey{
		{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: other, KeyID: "attacker"}},
		{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: f.keys.priv, KeyID: testKID}},
	}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := multi.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, f, obj.FullSerialize(), "malformed JWS")

	single, err := f.keys.signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, f, single.FullSerialize(), "malformed JWS")
}

func TestAttackRevokedFamily(t *testing.T) {
	f, _, _ := attackFixture(t)
	tok, c := f.mustMint(t, testGrant())
	f.cache.Add(storage.Revocation{Kind: storage.RevokeFamily, Key: c.SID, ExpiresAt: f.clk.Now().Add(time.Hour)})
	wantRevoked(t, f, tok)
}

func TestAttackRevokedJTI(t *testing.T) {
	f, _, _ := attackFixture(t)
	tok, c := f.mustMint(t, testGrant())
	f.cache.Add(storage.Revocation{Kind: storage.RevokeToken, Key: c.JTI, ExpiresAt: f.clk.Now().Add(time.Hour)})
	wantRevoked(t, f, tok)
}

// A token issued before its user's epoch (the kill switch) is refused.
func TestAttackPreEpochToken(t *testing.T) {
	f, _, _ := attackFixture(t)
	tok, c := f.mustMint(t, testGrant())
	f.clk.Advance(2 * time.Second)
	f.cache.Add(storage.Revocation{Kind: storage.RevokeUser, Key: c.Subject, NotBefore: f.clk.Now(),
		ExpiresAt: f.clk.Now().Add(time.Hour)})
	wantRevoked(t, f, tok)
}

func wantRevoked(t *testing.T, f *fixture, tok string) {
	t.Helper()
	if _, err := f.ver.Verify(t.Context(), tok, testResource); !errors.Is(err, ErrRevokedToken) || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Verify err = %v; want ErrRevokedToken", err)
	}
}

func (f *fixture) tokenFor(t *testing.T) string {
	tok, _ := f.mustMint(t, testGrant())
	return tok
}
