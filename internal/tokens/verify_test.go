package tokens

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

func TestMintVerifyRoundTrip(t *testing.T) {
	f := newFixture(t, memory.New())
	tok, minted := f.mustMint(t, testGrant())
	got, err := f.ver.Verify(t.Context(), tok, "HTTPS://MCP.Example.com:443/mcp/")
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !reflect.DeepEqual(got, minted) {
		t.Fatalf("claims differ:\n got %+v\nwant %+v", got, minted)
	}
	iat := f.clk.Now().Unix()
	want := Claims{
		Issuer: testIssuer, Subject: "local:alice", Audience: Audience{testResource}, ClientID: "client-a",
		Scope: "tools:read tools:call", IssuedAt: iat, Expiry: iat + 600, JTI: minted.JTI,
		AuthTime: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC).Unix(), SID: "fam-1", IDP: "local",
		Groups: []string{"eng"},
	}
	if !reflect.DeepEqual(minted, want) {
		t.Fatalf("minted %+v\nwant %+v", minted, want)
	}
	if got := minted.Scopes(); !reflect.DeepEqual(got, []string{"tools:read", "tools:call"}) {
		t.Fatalf("Scopes() = %q", got)
	}
}

// The wire form: typ at+jwt with kid and alg, aud a single string, groups
// omitted when empty, a 128-bit jti.
func TestMintWireFormat(t *testing.T) {
	f := newFixture(t, memory.New())
	g := testGrant()
	g.Groups = nil
	tok, _ := f.mustMint(t, g)
	obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := obj.Signatures[0].Protected
	if h.KeyID != testKID || h.Algorithm != "ES256" || h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
		t.Fatalf("header = %+v", h)
	}
	var raw map[string]any
	if err := json.Unmarshal(obj.UnsafePayloadWithoutVerification(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["aud"] != testResource {
		t.Errorf("aud = %#v; want a single string", raw["aud"])
	}
	if _, ok := raw["groups"]; ok {
		t.Errorf("groups present when empty: %v", raw)
	}
	if _, ok := raw["nbf"]; ok {
		t.Errorf("nbf present: %v", raw)
	}
	if jti, _ := raw["jti"].(string); len(jti) != 22 {
		t.Errorf("jti = %q; want 16 bytes base64url", jti)
	}
	for _, k := range []string{"iss", "sub", "client_id", "scope", "iat", "exp", "auth_time", "sid", "idp"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
}

func TestMintRefusesBadGrants(t *testing.T) {
	f := newFixture(t, memory.New())
	for name, mutate := range map[string]func(*Grant){
		"no subject":       func(g *Grant) { g.Subject = "" },
		"no client":        func(g *Grant) { g.ClientID = "" },
		"no family":        func(g *Grant) { g.FamilyID = "" },
		"bad resource":     func(g *Grant) { g.Resource = "https://mcp.example.com/mcp?x=1" },
		"scope with space": func(g *Grant) { g.Scopes = []string{"tools:read admin"} },
		"empty scope":      func(g *Grant) { g.Scopes = []string{""} },
	} {
		g := testGrant()
		mutate(&g)
		if _, _, err := f.mint.Mint(g); err == nil {
			t.Errorf("%s: Mint succeeded", name)
		}
	}
}

// An array aud is accepted when it contains the resource.
func TestVerifyAudienceArray(t *testing.T) {
	f, c, _ := attackFixture(t)
	c.Audience = Audience{"https://other.example.com", testResource + "/"}
	p, _ := json.Marshal(c)
	tok := forge(t, header{Alg: "ES256", Kid: testKID, Typ: "at+jwt"}, p, es256(t, f.keys.priv))
	got, err := f.ver.Verify(t.Context(), tok, testResource)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(got.Audience) != 2 {
		t.Fatalf("aud = %q", got.Audience)
	}
}

// Required claims (RFC 9068 §2.2, plus sid for revocation) must be present.
func TestVerifyRequiredClaims(t *testing.T) {
	f, base, _ := attackFixture(t)
	for name, mutate := range map[string]func(*Claims){
		"sub": func(c *Claims) { c.Subject = "" }, "client_id": func(c *Claims) { c.ClientID = "" },
		"jti": func(c *Claims) { c.JTI = "" }, "sid": func(c *Claims) { c.SID = "" },
		"iat": func(c *Claims) { c.IssuedAt = 0 }, "exp": func(c *Claims) { c.Expiry = 0 },
	} {
		c := base
		mutate(&c)
		p, _ := json.Marshal(c)
		tok := forge(t, header{Alg: "ES256", Kid: testKID, Typ: "at+jwt"}, p, es256(t, f.keys.priv))
		if _, err := f.ver.Verify(t.Context(), tok, testResource); !errors.Is(err, ErrInvalidToken) ||
			!strings.Contains(err.Error(), "required claim") {
			t.Errorf("%s missing: err = %v", name, err)
		}
	}
}

// Verify fails closed (and not as an invalid token) until the revocation
// cache has loaded.
func TestVerifyNeedsReadyCache(t *testing.T) {
	f := newFixture(t, memory.New())
	tok, _ := f.mustMint(t, testGrant())
	f.ver.Revoked = NewRevocationCache(f.store, CacheOptions{Now: f.clk.Now})
	if _, err := f.ver.Verify(t.Context(), tok, testResource); !errors.Is(err, ErrRevocationUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unready cache: err = %v", err)
	}
	f.ver.Revoked = nil
	if _, err := f.ver.Verify(t.Context(), tok, testResource); !errors.Is(err, ErrRevocationUnavailable) {
		t.Fatalf("no cache: err = %v", err)
	}
}
