package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/oauth"
	"github.com/mcpgate/mcpgate/internal/server"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// The signing-key tests (SPEC OP-4, AS-5). The acceptance point: after
// keys rotate, tokens signed by the old key verify until they expire, the
// new key was in the JWKS before it signed, and a restart loses no key.

// jwksOf fetches the gateway's JWK Set as an outside verifier would.
func jwksOf(t *testing.T, g *testenv.Gateway) jose.JSONWebKeySet {
	t.Helper()
	resp := wireDo(t, http.MethodGet, g.URL+"/oauth/jwks", "", "", nil)
	var set jose.JSONWebKeySet
	if resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &set) != nil {
		t.Fatalf("JWKS: %d %s", resp.Status, resp.Body)
	}
	return set
}

func kids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	slices.Sort(out)
	return out
}

// requireKids fails unless the published kids are exactly want.
func requireKids(t *testing.T, g *testenv.Gateway, want ...string) jose.JSONWebKeySet {
	t.Helper()
	set := jwksOf(t, g)
	want = slices.Sorted(slices.Values(want))
	if got := kids(set); !slices.Equal(got, want) {
		t.Fatalf("JWKS kids = %v, want %v", got, want)
	}
	return set
}

// verifyWithJWKS checks token's signature against the gateway's published
// keys only, as a resource server elsewhere does, and returns its kid.
func verifyWithJWKS(t *testing.T, g *testenv.Gateway, token string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	h := jws.Signatures[0].Protected
	set := jwksOf(t, g)
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %s is not in the JWKS", h.KeyID)
	}
	if keys[0].Algorithm != h.Algorithm {
		t.Fatalf("token alg %s, JWKS alg %s", h.Algorithm, keys[0].Algorithm)
	}
	if _, err := jws.Verify(keys[0].Key); err != nil {
		t.Fatalf("signature does not verify with the published key %s: %v", h.KeyID, err)
	}
	return h.KeyID
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	kid, _ := testenv.JWTHeader(t, token)["kid"].(string)
	return kid
}

// probeKid makes the instance look kid up, as it does when a token signed
// by a key it has not loaded yet arrives: the keys are reloaded from the
// store on a miss. Instances also reload every 5 s on a real-time ticker;
// the probe reaches the same Reload without waiting for it.
func probeKid(t *testing.T, g *testenv.Gateway, kid string) {
	t.Helper()
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	forged := enc(map[string]string{"alg": "ES256", "kid": kid, "typ": "at+jwt"}) + "." + enc(map[string]string{}) + "." +
		base64.RawURLEncoding.EncodeToString(make([]byte, 64))
	if _, err := g.VerifyAccess(forged, g.Resource(testenv.FilesPath)); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Fatalf("a forged token verified: %v", err)
	}
}

// refreshOnce redeems rt for the confidential test client and returns the
// new access and refresh tokens.
func refreshOnce(t *testing.T, g *testenv.Gateway, f testenv.Flow, rt string) (string, string) {
	t.Helper()
	r := g.RefreshFlow(f, rt, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	return r.Get("access_token"), r.Get("refresh_token")
}

func TestKeyRotationEndToEnd(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	opts := testenv.Options{Now: clock.Now}
	g := testenv.New(t, opts)
	res := g.Resource(testenv.FilesPath)
	f, r := g.Tokens(g.NewBrowser(), testenv.ConfidentialClient, res, testenv.Alice)
	t1, rt := r.Get("access_token"), r.Get("refresh_token")
	k1 := verifyWithJWKS(t, g, t1)
	requireKids(t, g, k1)

	// `mcpgate keys rotate` runs this, from outside the running instance.
	admin, err := server.OpenAdmin(ctx, g.Config, server.Options{Now: clock.Now, AuditStdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	k2, err := admin.RotateKey(ctx)
	admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !k2.ActiveAt.After(clock.Now()) {
		t.Fatalf("the new key signs from %v, not after now %v: it would sign before verifiers can fetch it", k2.ActiveAt, clock.Now())
	}
	// A verifier caching the JWKS for its max-age must have refetched it
	// before the first token the new key signs.
	if lead := k2.ActiveAt.Sub(k2.CreatedAt); lead < oauth.JWKSMaxAge {
		t.Fatalf("the new key is published %v ahead of signing, less than the JWKS max-age %v", lead, oauth.JWKSMaxAge)
	}

	// Published at once; the old key still signs.
	probeKid(t, g, k2.ID)
	requireKids(t, g, k1, k2.ID)
	at, rt := refreshOnce(t, g, f, rt)
	if kid := verifyWithJWKS(t, g, at); kid != k1 {
		t.Fatalf("a token issued during the publish-ahead window has kid %s, want the old key %s", kid, k1)
	}
	publishedBefore := clock.Now()

	// After the publish-ahead delay the new key signs.
	clock.Advance(k2.ActiveAt.Sub(clock.Now()))
	at, rt = refreshOnce(t, g, f, rt)
	if kid := verifyWithJWKS(t, g, at); kid != k2.ID {
		t.Fatalf("after the publish-ahead delay the token has kid %s, want %s", kid, k2.ID)
	}
	if !publishedBefore.Before(clock.Now()) {
		t.Fatal("the new key signed no later than it was first seen published")
	}
	g.RequireValid(t, t1, res)

	// A restart loses no key: both published, the old token valid, the new
	// key signing.
	g.Close()
	g = g.Restart(t, opts)
	requireKids(t, g, k1, k2.ID)
	g.RequireValid(t, t1, res)
	verifyWithJWKS(t, g, t1)
	if at, _ = refreshOnce(t, g, f, rt); kidOf(t, at) != k2.ID {
		t.Fatalf("after restart the token has kid %s, want %s", kidOf(t, at), k2.ID)
	}

	// T1 verifies until it expires, and not after.
	exp := time.Unix(int64(testenv.JWTPayload(t, t1)["exp"].(float64)), 0)
	clock.Advance(exp.Add(-time.Second).Sub(clock.Now()))
	g.RequireValid(t, t1, res)
	clock.Advance(tokens.DefaultSkew + 2*time.Second)
	if _, err := g.VerifyAccess(t1, res); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Fatalf("T1 after its expiry: %v, want invalid", err)
	}
	requireKids(t, g, k1, k2.ID) // still published: its last tokens may be in flight elsewhere

	// Once every token it signed has expired, the old key is withdrawn.
	clock.Advance(k2.ActiveAt.Add(11 * time.Minute).Sub(clock.Now()))
	requireKids(t, g, k2.ID)
}

// TestSigningAlgorithms: ES256 by default, EdDSA and RS256 selectable
// (SPEC AS-5); the token header and the published key agree.
func TestSigningAlgorithms(t *testing.T) {
	for _, tc := range []struct{ alg, kty, crv string }{
		{"ES256", "EC", "P-256"},
		{"EdDSA", "OKP", "Ed25519"},
		{"RS256", "RSA", ""},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) { c.Signing.Algorithm = tc.alg }})
			_, r := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
			at := r.Get("access_token")
			if h := testenv.JWTHeader(t, at); h["alg"] != tc.alg || h["typ"] != "at+jwt" {
				t.Errorf("token header %v, want alg %s typ at+jwt", h, tc.alg)
			}
			var raw struct {
				Keys []map[string]any `json:"keys"`
			}
			json.Unmarshal(wireDo(t, http.MethodGet, g.URL+"/oauth/jwks", "", "", nil).Body, &raw)
			if len(raw.Keys) != 1 {
				t.Fatalf("JWKS has %d keys, want 1", len(raw.Keys))
			}
			k := raw.Keys[0]
			if k["kty"] != tc.kty || k["alg"] != tc.alg || k["use"] != "sig" || (tc.crv != "" && k["crv"] != tc.crv) {
				t.Errorf("JWKS key %v, want kty %s alg %s crv %q use sig", k, tc.kty, tc.alg, tc.crv)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := k[private]; ok {
					t.Errorf("JWKS publishes the private member %q", private)
				}
			}
			verifyWithJWKS(t, g, at)
			g.RequireValid(t, at, g.Resource(testenv.FilesPath))
		})
	}
}

// TestSigningAlgorithmChangeAtRotation: changing signing.algorithm does
// not strand the stored key; the next rotation makes a key of the new
// algorithm, and both verify meanwhile.
func TestSigningAlgorithmChangeAtRotation(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(time.Now())
	opts := testenv.Options{Now: clock.Now}
	g := testenv.New(t, opts)
	res := g.Resource(testenv.FilesPath)
	f, r := g.Tokens(g.NewBrowser(), testenv.ConfidentialClient, res, testenv.Alice)
	old := r.Get("access_token")
	g.Close()
	g.Config.Signing.Algorithm = "EdDSA"
	g = g.Restart(t, opts)
	at, rt := refreshOnce(t, g, f, r.Get("refresh_token"))
	if alg := testenv.JWTHeader(t, at)["alg"]; alg != "ES256" {
		t.Fatalf("before rotation the stored ES256 key must keep signing, got %v", alg)
	}
	admin, err := server.OpenAdmin(ctx, g.Config, server.Options{Now: clock.Now, AuditStdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	k2, err := admin.RotateKey(ctx)
	admin.Close()
	if err != nil || k2.Algorithm != "EdDSA" {
		t.Fatalf("rotation: %v, algorithm %q, want EdDSA", err, k2.Algorithm)
	}
	probeKid(t, g, k2.ID)
	clock.Advance(k2.ActiveAt.Sub(clock.Now()))
	at, _ = refreshOnce(t, g, f, rt)
	if h := testenv.JWTHeader(t, at); h["alg"] != "EdDSA" || h["kid"] != k2.ID {
		t.Fatalf("after rotation: header %v, want EdDSA by %s", h, k2.ID)
	}
	verifyWithJWKS(t, g, at)
	verifyWithJWKS(t, g, old)
	g.RequireValid(t, old, res)
}
