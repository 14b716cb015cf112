package extauth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/testenv/zitadel"
)

// These tests run against the zitadel/oidc example OP (v3.51.17), a real
// third-party OpenID Provider (SPEC §10). Start it with .ci/zitadel-op,
// which sets MCPGATE_TEST_ZITADEL.
//
// What the OP issues and how the login works: see package
// internal/testenv/zitadel. Its introspection answer carries no aud,
// which is what Introspection.ImpliedAudience is for; the JWT path is run
// with the ID token of the same login.

func zitadelVerifier(t *testing.T, edit func(*Options)) *Verifier {
	opts := Options{
		HTTPClient: &http.Client{Transport: zitadel.Transport(t), Timeout: 10 * time.Second},
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	edit(&opts)
	v, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestZitadelOpaqueIntrospection: the OP's access token passes through
// discovery and introspection; other audiences and issuers do not.
func TestZitadelOpaqueIntrospection(t *testing.T) {
	z := zitadel.Login(t)
	if strings.Count(z.Access, ".") == 2 {
		t.Fatalf("the OP issued a JWS access token; this test expects opaque ones")
	}
	web := func(edit func(*Options)) *Verifier {
		return zitadelVerifier(t, func(o *Options) {
			o.Issuer, o.Audience = z.Issuer, "web"
			o.Introspection = &Introspection{ClientID: "web", ClientSecret: "secret", ImpliedAudience: true}
			if edit != nil {
				edit(o)
			}
		})
	}
	ctx := context.Background()
	c, err := web(nil).Verify(ctx, z.Access)
	if err != nil {
		t.Fatalf("valid access token: %v", err)
	}
	if c.Subject != "id1" || c.ClientID != "web" || c.Email != "test-user@zitadel.ch" || !c.EmailVerified ||
		!slices.Equal(c.Scopes, []string{"openid", "email", "profile"}) || time.Until(c.Expiry) <= 0 {
		t.Errorf("claims: %+v", c)
	}

	// Without ImpliedAudience the OP's answer (no aud) is refused.
	_, err = web(func(o *Options) { o.Introspection.ImpliedAudience = false }).Verify(ctx, z.Access)
	wantInvalid(t, err, "introspection: no aud", z.Access)
	// Another audience: the resource "api" asks about a token for "web",
	// and the OP says inactive ...
	_, err = web(func(o *Options) {
		o.Audience = "api"
		o.Introspection.ClientID = "api"
	}).Verify(ctx, z.Access)
	wantInvalid(t, err, "not active", z.Access)
	// ... and a gateway configured for another audience refuses it itself.
	_, err = web(func(o *Options) { o.Audience = "mcp" }).Verify(ctx, z.Access)
	wantInvalid(t, err, "introspection: wrong audience", z.Access)
	// The same OP under another issuer name: its metadata names
	// localhost, so discovery refuses it (RFC 8414 §3.3).
	_, err = web(func(o *Options) { o.Issuer = strings.Replace(z.Issuer, "localhost", "127.0.0.1", 1) }).Verify(ctx, z.Access)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "metadata issuer differs") {
		t.Fatalf("wrong issuer: want the metadata refused, got %v", err)
	}
}

// TestZitadelJWKS: the OP's RS256 ID token verifies against the discovered
// JWKS; wrong audience and issuer fail.
func TestZitadelJWKS(t *testing.T) {
	z := zitadel.Login(t)
	ctx := context.Background()
	v := zitadelVerifier(t, func(o *Options) { o.Issuer, o.Audience = z.Issuer, "web" })
	c, err := v.Verify(ctx, z.ID)
	if err != nil {
		t.Fatalf("ID token via discovered JWKS: %v", err)
	}
	if c.Subject != "id1" || c.ClientID != "web" || !v.Ready() {
		t.Errorf("claims: %+v, ready %v", c, v.Ready())
	}

	v = zitadelVerifier(t, func(o *Options) { o.Issuer, o.Audience = z.Issuer, "api" })
	_, err = v.Verify(ctx, z.ID)
	wantInvalid(t, err, "wrong audience", z.ID)

	// Wrong issuer with the endpoints given, so discovery cannot refuse
	// first: the token's own iss check fires.
	v = zitadelVerifier(t, func(o *Options) {
		o.Issuer, o.Audience, o.JWKSURL = "http://localhost:1/", "web", z.JWKS
	})
	_, err = v.Verify(ctx, z.ID)
	wantInvalid(t, err, "wrong issuer", z.ID)

	// Requiring typ at+jwt (RFC 9068) refuses the ID token (typ JWT).
	v = zitadelVerifier(t, func(o *Options) { o.Issuer, o.Audience, o.TokenType = z.Issuer, "web", "at+jwt" })
	_, err = v.Verify(ctx, z.ID)
	wantInvalid(t, err, "typ is not at+jwt", z.ID)
}
