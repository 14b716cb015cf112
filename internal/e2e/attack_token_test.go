package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/testenv"
)

var b64 = base64.RawURLEncoding

// reencode returns token with its header and payload rewritten by edit
// and the original signature kept.
func reencode(t *testing.T, token string, edit func(h, p map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	h, p := testenv.JWTHeader(t, token), testenv.JWTPayload(t, token)
	edit(h, p)
	hb, _ := json.Marshal(h)
	pb, _ := json.Marshal(p)
	return b64.EncodeToString(hb) + "." + b64.EncodeToString(pb) + "." + parts[2]
}

// hs256 signs header.payload with key as an HMAC secret: the key
// confusion attack, where the verifier's public key is used as a shared
// secret.
func hs256(t *testing.T, token string, key []byte) string {
	t.Helper()
	parts := strings.Split(token, ".")
	h := testenv.JWTHeader(t, token)
	h["alg"] = "HS256"
	hb, _ := json.Marshal(h)
	signing := b64.EncodeToString(hb) + "." + parts[1]
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(mac.Sum(nil))
}

// publicKeys returns the forms of the gateway's first signing key an
// attacker would try as an HMAC secret: the JWK JSON, the PEM and DER of
// the public key.
func publicKeys(t *testing.T, a *attackEnv) map[string][]byte {
	t.Helper()
	resp, err := a.g.Client().Get(a.g.URL + "/oauth/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("jwks: %v %s", err, raw)
	}
	k := set.Keys[0]
	jwk, _ := json.Marshal(k)
	out := map[string][]byte{"JWK JSON": jwk}
	if k["kty"] == "EC" {
		x, _ := b64.DecodeString(k["x"].(string))
		y, _ := b64.DecodeString(k["y"].(string))
		// The uncompressed point (SEC 1 §2.3.3): 0x04 || X || Y.
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		out["DER"] = der
		out["PEM"] = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	return out
}

// TestAttackForgedToken: access tokens forged or misused at the MCP route
// (SPEC PX-2, AS-5, AS-5a): alg=none, HMAC with the public key, a
// tampered payload, a wrong or missing kid, a stripped signature, another
// resource's or another issuer's token, an expired or revoked one. Each
// gets 401 with error="invalid_token" and reaches nothing upstream.
func TestAttackForgedToken(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	a := newAttackEnv(t, testenv.Options{Now: clock.Now}, nil)
	g := a.g
	tok := a.accessToken(t)
	requireForwarded(t, a, tok)
	parts := strings.Split(tok, ".")
	forged := map[string]string{
		"alg none": func() string {
			h := testenv.JWTHeader(t, tok)
			h["alg"] = "none"
			hb, _ := json.Marshal(h)
			return b64.EncodeToString(hb) + "." + parts[1] + "."
		}(),
		"alg none with signature": reencode(t, tok, func(h, _ map[string]any) { h["alg"] = "none" }),
		"signature stripped":      parts[0] + "." + parts[1] + ".",
		"tampered subject":        reencode(t, tok, func(_, p map[string]any) { p["sub"] = "local:" + testenv.Bob }),
		"tampered scope":          reencode(t, tok, func(_, p map[string]any) { p["scope"] = "files:read admin:all" }),
		"extended expiry":         reencode(t, tok, func(_, p map[string]any) { p["exp"] = time.Now().Add(24 * time.Hour).Unix() }),
		"unknown kid":             reencode(t, tok, func(h, _ map[string]any) { h["kid"] = "attacker-key" }),
		"missing kid":             reencode(t, tok, func(h, _ map[string]any) { delete(h, "kid") }),
		"typ JWT":                 reencode(t, tok, func(h, _ map[string]any) { h["typ"] = "JWT" }),
		"jku header":              reencode(t, tok, func(h, _ map[string]any) { h["jku"] = "https://evil.example/jwks" }),
		"signature flipped": func() string {
			sig, _ := b64.DecodeString(parts[2])
			sig[0] ^= 1
			return parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig)
		}(),
		"two tokens": tok + "." + tok,
		"garbage":    "not-a-jwt",
	}
	for form, key := range publicKeys(t, a) {
		forged["HMAC with the public key as "+form] = hs256(t, tok, key)
	}
	// A token of another gateway (another issuer and keys) with the same
	// users and clients.
	other := newAttackEnv(t, testenv.Options{}, nil)
	forged["another issuer's token"] = other.accessToken(t)
	// A real token for another resource of the same gateway.
	_, adminRep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.Resource(testenv.AdminPath), testenv.Bob)
	forged["another resource's token"] = adminRep.Get("access_token")

	check := func(t *testing.T, token string) {
		t.Helper()
		before := a.up.count()
		resp, body := a.mcp(t, http.MethodPost, testenv.FilesPath, initializeBody, bearer(token))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %d %.300s, want 401", resp.StatusCode, body)
		}
		if wa := resp.Header.Get("WWW-Authenticate"); !strings.Contains(wa, `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate %q, want error=\"invalid_token\"", wa)
		}
		a.requireNothingForwarded(t, before)
	}
	for name, token := range forged {
		t.Run(name, func(t *testing.T) { check(t, token) })
	}
	t.Run("revoked", func(t *testing.T) {
		victim := a.accessToken(t)
		requireForwarded(t, a, victim)
		if r := a.reply(t, g.Revoke(victim, testenv.PublicClient, "")); r.Status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		if _, err := g.WaitRevoked(victim, g.Resource(testenv.FilesPath), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		check(t, victim)
	})
	t.Run("expired", func(t *testing.T) {
		requireForwarded(t, a, tok) // still valid now
		clock.Advance(time.Duration(g.Config.Signing.AccessTokenTTL) + 5*time.Minute)
		check(t, tok)
	})
}
