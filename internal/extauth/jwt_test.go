package extauth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// oktaAS is an Okta custom authorization server: issuer with a path,
// metadata at the issuer-suffixed well-known URL, one RSA key "k1".
func oktaAS(t *testing.T) (*fakeAS, *Verifier, *clock.Clock) {
	as := newFakeAS(t, "/oauth2/default", metaSuffixed)
	as.publish(rsaJWK(rsaKey(0), "k1"))
	clk := clock.New(t0)
	return as, newVerifier(t, as, clk, nil), clk
}

func TestOktaTokenPasses(t *testing.T) {
	as, v, clk := oktaAS(t)
	c := mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(0), "k1"))
	if c.Subject != "alice@acme.com" || c.ClientID != "0oa1client" || c.JTI != "AT.k3Jv" {
		t.Errorf("claims: %+v", c)
	}
	if !slices.Equal(c.Scopes, []string{"mcp:read", "mcp:write"}) || !slices.Equal(c.Groups, []string{"eng", "oncall"}) {
		t.Errorf("scopes %v, groups %v", c.Scopes, c.Groups)
	}
	if !c.Expiry.Equal(t0.Add(time.Hour)) || c.Issuer != as.issuer || !slices.Equal(c.Audience, []string{"api://mcp"}) {
		t.Errorf("expiry %v, iss %q, aud %v", c.Expiry, c.Issuer, c.Audience)
	}
	if !v.Ready() {
		t.Error("not Ready after keys were loaded")
	}
}

// TestOktaAttacks: each forged or misdirected token is refused, and the
// reason shows which check refused it.
func TestOktaAttacks(t *testing.T) {
	as, v, clk := oktaAS(t)
	now := clk.Now()
	other := rsaKey(1) // a key the AS never published
	ec := newECKey(t)
	okta := func(edit func(h, c map[string]any)) string {
		h := map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"}
		c := oktaClaims(as, now)
		edit(h, c)
		return mint(h, c, rs256(rsaKey(0)))
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey(0).PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	cases := []struct {
		name, token, reason string
	}{
		{"wrong audience", okta(func(_, c map[string]any) { c["aud"] = "api://other" }), "wrong audience"},
		{"audience prefix", okta(func(_, c map[string]any) { c["aud"] = "api://mcp/" }), "wrong audience"},
		{"audience string holding ours and more", okta(func(_, c map[string]any) { c["aud"] = "api://mcp api://other" }), "wrong audience"},
		{"audience list without ours", okta(func(_, c map[string]any) { c["aud"] = []string{"a", "b"} }), "wrong audience"},
		{"no audience", okta(func(_, c map[string]any) { delete(c, "aud") }), "wrong audience"},
		{"wrong issuer", okta(func(_, c map[string]any) { c["iss"] = "https://evil.example/oauth2/default" }), "wrong issuer"},
		{"issuer with trailing slash", okta(func(_, c map[string]any) { c["iss"] = as.issuer + "/" }), "wrong issuer"},
		{"expired", okta(func(_, c map[string]any) { c["exp"] = now.Add(-61 * time.Second).Unix() }), "expired"},
		{"no exp", okta(func(_, c map[string]any) { delete(c, "exp") }), "no exp"},
		{"not yet valid", okta(func(_, c map[string]any) { c["nbf"] = now.Add(2 * time.Minute).Unix() }), "not yet valid"},
		{"issued in the future", okta(func(_, c map[string]any) { c["iat"] = now.Add(2 * time.Minute).Unix() }), "issued in the future"},
		{"no sub", okta(func(_, c map[string]any) { delete(c, "sub") }), "no sub"},
		{"scp not strings", okta(func(_, c map[string]any) { c["scp"] = []int{1} }), "malformed scp claim"},
		{"groups a string", okta(func(_, c map[string]any) { c["groups"] = "admins" }), "malformed groups claim"},
		{"exp a string", okta(func(_, c map[string]any) { c["exp"] = "4102444800" }), "malformed exp claim"},
		{"crit header", okta(func(h, _ map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }), "crit header present"},
		{"alg none", mint(map[string]any{"alg": "none", "kid": "k1", "typ": "JWT"}, oktaClaims(as, now), noSignature), `alg "none" not allowed`},
		{"HS256 keyed with the public key PEM", mint(map[string]any{"alg": "HS256", "kid": "k1"}, oktaClaims(as, now), hs256(pubPEM)), `alg "HS256" not allowed`},
		{"HS256 keyed with the modulus", mint(map[string]any{"alg": "HS256", "kid": "k1"}, oktaClaims(as, now), hs256(rsaKey(0).N.Bytes())), `alg "HS256" not allowed`},
		{"ES256 under the RSA key's kid", mint(map[string]any{"alg": "ES256", "kid": "k1"}, oktaClaims(as, now), es256(ec)), `does not fit alg ES256`},
		{"tampered payload", tamper(t, oktaToken(as, now, rsaKey(0), "k1")), "bad signature"},
		{"key from another JWKS under our kid", oktaToken(as, now, other, "k1"), "bad signature"},
		{"unknown kid", oktaToken(as, now, other, "k-attacker"), "unknown kid"},
		{"JWS JSON serialisation", `{"payload":"e30","signatures":[]}`, "not a JWT"},
		{"two parts", "a.b", "not a JWT"},
		{"garbage header", "!!.e30.sig", "malformed JWS header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token)
			wantInvalid(t, err, tc.reason, tc.token)
		})
	}
}

// tamper raises the token's scopes without re-signing.
func tamper(t testing.TB, token string) string {
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c["scp"] = []string{"mcp:read", "mcp:write", "mcp:admin"}
	b, _ := json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// TestSkewAndAudienceForms: the positive edges of the rules above.
func TestSkewAndAudienceForms(t *testing.T) {
	as, v, clk := oktaAS(t)
	now := clk.Now()
	for name, edit := range map[string]func(c map[string]any){
		"exp 59s ago is within skew":   func(c map[string]any) { c["exp"] = now.Add(-59 * time.Second).Unix() },
		"nbf 59s ahead is within skew": func(c map[string]any) { c["nbf"] = now.Add(59 * time.Second).Unix() },
		"aud array containing ours":    func(c map[string]any) { c["aud"] = []string{"api://other", "api://mcp"} },
		"fractional exp":               func(c map[string]any) { c["exp"] = float64(now.Unix()) + 600.5 },
	} {
		t.Run(name, func(t *testing.T) {
			c := oktaClaims(as, now)
			edit(c)
			mustVerify(t, v, mint(map[string]any{"alg": "RS256", "kid": "k1"}, c, rs256(rsaKey(0))))
		})
	}
}

// TestKidRules: a token without kid is accepted only while the JWKS has a
// single key.
func TestKidRules(t *testing.T) {
	as, v, clk := oktaAS(t)
	noKid := mint(map[string]any{"alg": "RS256"}, oktaClaims(as, clk.Now()), rs256(rsaKey(0)))
	mustVerify(t, v, noKid)

	as.publish(rsaJWK(rsaKey(0), "k1"), rsaJWK(rsaKey(1), "k2"))
	if err := v.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(context.Background(), noKid)
	wantInvalid(t, err, "no kid and the JWKS has several keys", noKid)
}

// TestUnusableKeysIgnored: encryption keys, symmetric keys and short RSA
// keys in the JWKS never verify anything.
func TestUnusableKeysIgnored(t *testing.T) {
	as, v, clk := oktaAS(t)
	enc := rsaJWK(rsaKey(1), "enc")
	enc.Use = "enc"
	as.publish(rsaJWK(rsaKey(0), "k1"), enc, jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct", Algorithm: "HS256"})
	mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(0), "k1"))
	tok := oktaToken(as, clk.Now(), rsaKey(1), "enc")
	_, err := v.Verify(context.Background(), tok)
	wantInvalid(t, err, "unknown kid", tok)
	hs := mint(map[string]any{"alg": "HS256", "kid": "oct"}, oktaClaims(as, clk.Now()), hs256([]byte("0123456789abcdef0123456789abcdef")))
	_, err = v.Verify(context.Background(), hs)
	wantInvalid(t, err, `alg "HS256" not allowed`, hs)
}

// TestTokenType: with TokenType configured, typ must match (RFC 9068
// "at+jwt", prefix optional, any case); Okta's "JWT" then fails.
func TestTokenType(t *testing.T) {
	as := newFakeAS(t, "/oauth2/default", metaSuffixed)
	as.publish(rsaJWK(rsaKey(0), "k1"))
	clk := clock.New(t0)
	v := newVerifier(t, as, clk, func(o *Options) { o.TokenType = "application/AT+JWT" })
	claims := oktaClaims(as, clk.Now())
	for typ, ok := range map[string]bool{"at+jwt": true, "application/at+jwt": true, "AT+JWT": true, "JWT": false, "": false} {
		h := map[string]any{"alg": "RS256", "kid": "k1"}
		if typ != "" {
			h["typ"] = typ
		}
		_, err := v.Verify(context.Background(), mint(h, claims, rs256(rsaKey(0))))
		if ok && err != nil {
			t.Errorf("typ %q: %v", typ, err)
		}
		if !ok {
			wantInvalid(t, err, "typ is not at+jwt", "")
		}
	}
}

// TestScopeStringShape: a second AS shape, RFC 9068 style: issuer without
// a path, OIDC discovery, scope as a space-separated string, client_id,
// aud an array, ES256.
func TestScopeStringShape(t *testing.T) {
	as := newFakeAS(t, "", metaOIDC)
	ec := newECKey(t)
	as.publish(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "ec1", Algorithm: "ES256", Use: "sig"})
	clk := clock.New(t0)
	v := newVerifier(t, as, clk, func(o *Options) {
		o.ScopeClaim = "scope"
		o.Audience = "https://mcp.example.com/files"
	})
	claims := map[string]any{
		"iss": as.issuer, "sub": "u-42", "client_id": "cli-7", "aud": []string{"https://mcp.example.com/files"},
		"exp": t0.Add(time.Hour).Unix(), "scope": "files:read  files:write", "email": "bob@example.com", "email_verified": true,
	}
	c := mustVerify(t, v, mint(map[string]any{"alg": "ES256", "kid": "ec1", "typ": "at+jwt"}, claims, es256(ec)))
	if !slices.Equal(c.Scopes, []string{"files:read", "files:write"}) || c.ClientID != "cli-7" || c.Email != "bob@example.com" || !c.EmailVerified {
		t.Errorf("claims: %+v", c)
	}
	// An Okta-style scp array is not read in scope mode.
	claims["scp"], claims["scope"] = []string{"files:admin"}, nil
	c = mustVerify(t, v, mint(map[string]any{"alg": "ES256", "kid": "ec1"}, claims, es256(ec)))
	if len(c.Scopes) != 0 {
		t.Errorf("scopes read from scp in scope mode: %v", c.Scopes)
	}
	// email_verified must be the JSON value true.
	claims["email_verified"] = "true"
	if c := mustVerify(t, v, mint(map[string]any{"alg": "ES256", "kid": "ec1"}, claims, es256(ec))); c.EmailVerified {
		t.Error(`email_verified "true" (a string) counted as verified`)
	}
}

// TestScpAsString: Okta-mode also accepts a space-separated scp string.
func TestScpAsString(t *testing.T) {
	as, v, clk := oktaAS(t)
	c := oktaClaims(as, clk.Now())
	c["scp"] = "mcp:read mcp:write"
	got := mustVerify(t, v, mint(map[string]any{"alg": "RS256", "kid": "k1"}, c, rs256(rsaKey(0))))
	if !slices.Equal(got.Scopes, []string{"mcp:read", "mcp:write"}) {
		t.Errorf("scopes %v", got.Scopes)
	}
}
