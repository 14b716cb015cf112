package extauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// FuzzVerify feeds arbitrary strings to Verify against a fixed JWKS (an
// RSA key "r1" and a P-256 key "e1"). Oracle: a token is accepted only if
// an independent check (stdlib signature verification, encoding/json
// claims) finds it signed by one of those keys under its kid, with iss
// exact, aud containing ours, exp not passed and nbf reached (with skew);
// anything refused is ErrInvalidToken, with the token not in the error.
func FuzzVerify(f *testing.F) {
	as := newFakeAS(f, "/oauth2/default", metaSuffixed)
	rk, ek := rsaKey(0), newECKey(f)
	as.publish(rsaJWK(rk, "r1"), jose.JSONWebKey{Key: &ek.PublicKey, KeyID: "e1", Algorithm: "ES256", Use: "sig"})
	clk := clock.New(t0)
	v := newVerifier(f, as, clk, func(o *Options) { o.JWKSURL = as.srv.URL + "/keys" })
	if err := v.refresh(context.Background()); err != nil {
		f.Fatal(err)
	}

	claims := oktaClaims(as, t0)
	f.Add(mint(map[string]any{"alg": "RS256", "kid": "r1", "typ": "JWT"}, claims, rs256(rk)))
	f.Add(mint(map[string]any{"alg": "ES256", "kid": "e1"}, claims, es256(ek)))
	f.Add(mint(map[string]any{"alg": "none", "kid": "r1"}, claims, noSignature))
	f.Add(mint(map[string]any{"alg": "HS256", "kid": "r1"}, claims, hs256(rk.N.Bytes())))
	f.Add(mint(map[string]any{"alg": "ES256", "kid": "r1"}, claims, es256(ek)))
	f.Add(tamper(f, mint(map[string]any{"alg": "RS256", "kid": "r1"}, claims, rs256(rk))))
	// Validly signed but wrong in one claim each: the seeds that make the
	// oracle bite if a claim check is lost.
	for _, edit := range []func(c map[string]any){
		func(c map[string]any) { c["exp"] = t0.Add(-2 * time.Hour).Unix() },
		func(c map[string]any) { c["nbf"] = t0.Add(time.Hour).Unix() },
		func(c map[string]any) { c["aud"] = "api://other" },
		func(c map[string]any) { c["aud"] = "api://mcp api://other" },
		func(c map[string]any) { c["iss"] = "https://evil.example" },
	} {
		c := oktaClaims(as, t0)
		edit(c)
		f.Add(mint(map[string]any{"alg": "RS256", "kid": "r1"}, c, rs256(rk)))
	}
	f.Add("opaque")
	f.Add("a.b.c")
	f.Add("")

	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("refusal is not ErrInvalidToken: %v", err)
			}
			if len(token) >= 12 && strings.Contains(err.Error(), token) {
				t.Fatalf("error repeats the token: %v", err)
			}
			return
		}
		payload := oracleSignature(t, token, &rk.PublicKey, &ek.PublicKey)
		oracleClaims(t, payload, c, as.issuer, clk.Now())
	})
}

// oracleSignature checks with the standard library alone that token is a
// compact JWS signed by one of the fake's keys, and returns its payload.
func oracleSignature(t *testing.T, token string, rk *rsa.PublicKey, ek *ecdsa.PublicKey) []byte {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted a token of %d parts", len(parts))
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			t.Fatalf("accepted a token with bad base64url: %v", err)
		}
		return b
	}
	var h map[string]any
	if err := json.Unmarshal(dec(parts[0]), &h); err != nil {
		t.Fatalf("accepted a token whose header is not JSON: %v", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig := dec(parts[2])
	switch {
	case h["alg"] == "RS256" && h["kid"] == "r1":
		if rsa.VerifyPKCS1v15(rk, crypto.SHA256, digest[:], sig) != nil {
			t.Fatal("accepted an RS256 token the RSA key did not sign")
		}
	case h["alg"] == "ES256" && h["kid"] == "e1":
		if len(sig) != 64 || !ecdsa.Verify(ek, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Fatal("accepted an ES256 token the EC key did not sign")
		}
	default:
		t.Fatalf("accepted alg %v with kid %v", h["alg"], h["kid"])
	}
	return dec(parts[1])
}

// oracleClaims checks the accepted claims independently of decodeClaims.
func oracleClaims(t *testing.T, payload []byte, c Claims, issuer string, now time.Time) {
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("accepted claims that are not a JSON object: %v", err)
	}
	if m["iss"] != issuer {
		t.Fatalf("accepted iss %v", m["iss"])
	}
	switch aud := m["aud"].(type) {
	case string:
		if aud != "api://mcp" {
			t.Fatalf("accepted aud %q", aud)
		}
	case []any:
		if !slices.Contains(aud, any("api://mcp")) {
			t.Fatalf("accepted aud %v", aud)
		}
	default:
		t.Fatalf("accepted aud %v", m["aud"])
	}
	exp, ok := m["exp"].(float64)
	if !ok || !now.Before(time.Unix(int64(exp), 0).Add(DefaultSkew)) {
		t.Fatalf("accepted exp %v at %v", m["exp"], now)
	}
	if nbf, ok := m["nbf"].(float64); ok && now.Add(DefaultSkew).Before(time.Unix(int64(nbf), 0)) {
		t.Fatalf("accepted nbf %v at %v", nbf, now)
	}
	if sub, _ := m["sub"].(string); sub == "" || sub != c.Subject {
		t.Fatalf("sub %v, claims say %q", m["sub"], c.Subject)
	}
}
