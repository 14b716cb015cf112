package extauth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

func TestMetadataURLs(t *testing.T) {
	for issuer, want := range map[string][]string{
		"https://acme.okta.com/oauth2/default": {
			"https://acme.okta.com/.well-known/oauth-authorization-server/oauth2/default",
			"https://acme.okta.com/oauth2/default/.well-known/oauth-authorization-server",
			"https://acme.okta.com/oauth2/default/.well-known/openid-configuration",
		},
		"https://as.example.com": {
			"https://as.example.com/.well-known/oauth-authorization-server",
			"https://as.example.com/.well-known/openid-configuration",
		},
		"http://localhost:9998/": {
			"http://localhost:9998/.well-known/oauth-authorization-server",
			"http://localhost:9998/.well-known/openid-configuration",
		},
	} {
		if got := metadataURLs(issuer); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", issuer, got, want)
		}
	}
}

// TestDiscoveryLocations: each well-known location is found, for an issuer
// with a path.
func TestDiscoveryLocations(t *testing.T) {
	for name, at := range map[string]int{"RFC 8414 inserted": metaInserted, "issuer-suffixed (Okta)": metaSuffixed, "OIDC": metaOIDC} {
		t.Run(name, func(t *testing.T) {
			as := newFakeAS(t, "/oauth2/default", at)
			as.publish(rsaJWK(rsaKey(0), "k1"))
			clk := clock.New(t0)
			v := newVerifier(t, as, clk, nil)
			mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(0), "k1"))
			if as.metaHits.Load() != 1 {
				t.Errorf("metadata served %d times", as.metaHits.Load())
			}
		})
	}
}

// TestASDownAtStart: the gateway starts with the AS down; requests get
// ErrUnavailable (503, not 401) without hammering the AS, and succeed once
// it is back.
func TestASDownAtStart(t *testing.T) {
	as, v, clk := oktaAS(t)
	as.down.Store(true)
	tok := oktaToken(as, clk.Now(), rsaKey(0), "k1")
	for range 3 {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
			t.Fatalf("AS down: want ErrUnavailable, got %v", err)
		}
	}
	if v.Ready() {
		t.Error("Ready with no keys")
	}
	if n := as.metaHits.Load(); n != 0 {
		t.Errorf("503 answers counted as metadata: %d", n)
	}

	as.down.Store(false)
	// Within MinRefetch of the failed attempt nothing is fetched ...
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("want ErrUnavailable while throttled, got %v", err)
	}
	if as.metaHits.Load() != 0 {
		t.Fatal("fetched within MinRefetch of the failed attempt")
	}
	// ... and after it, the next request loads everything and passes.
	clk.Advance(DefaultMinRefetch)
	mustVerify(t, v, tok)
	if !v.Ready() {
		t.Error("not Ready after keys were loaded")
	}
}

// TestMetadataIssuerMismatch: RFC 8414 §3.3, a document naming another
// issuer is not used, and its jwks_uri is never fetched.
func TestMetadataIssuerMismatch(t *testing.T) {
	as, v, clk := oktaAS(t)
	as.metaIssuer = "https://evil.example/oauth2/default"
	_, err := v.Verify(context.Background(), oktaToken(as, clk.Now(), rsaKey(0), "k1"))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "metadata issuer differs") {
		t.Fatalf("want ErrUnavailable naming the issuer mismatch, got %v", err)
	}
	if as.jwksHits.Load() != 0 || v.Ready() {
		t.Fatal("keys fetched from a document for another issuer")
	}
	// The same with only a trailing slash of difference.
	as.metaIssuer = as.issuer + "/"
	clk.Advance(DefaultMinRefetch)
	if _, err := v.Verify(context.Background(), oktaToken(as, clk.Now(), rsaKey(0), "k1")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("trailing-slash issuer accepted: %v", err)
	}
}

// TestExplicitJWKSURL: with JWKSURL set and no introspection, no
// discovery happens.
func TestExplicitJWKSURL(t *testing.T) {
	as := newFakeAS(t, "/oauth2/default", metaSuffixed)
	as.publish(rsaJWK(rsaKey(0), "k1"))
	clk := clock.New(t0)
	v := newVerifier(t, as, clk, func(o *Options) { o.JWKSURL = as.srv.URL + "/keys" })
	mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(0), "k1"))
	if as.metaHits.Load() != 0 {
		t.Error("discovery ran although JWKSURL was given")
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Options{
		Issuer:        "http://as.example.com",
		ScopeClaim:    "a b",
		JWKSURL:       "/keys",
		Introspection: &Introspection{URL: "ftp://x", NegativeTTL: -1, MaxConcurrent: -1},
		MinRefetch:    -1,
	})
	if err == nil {
		t.Fatal("bad options accepted")
	}
	for _, field := range []string{"Issuer", "Audience", "ScopeClaim", "JWKSURL", "Introspection.URL", "Introspection:",
		"Introspection.NegativeTTL", "Introspection.MaxConcurrent", "MinRefetch"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
	for _, iss := range []string{"https://as.example.com/x", "http://127.0.0.1:8080", "http://localhost:9998/", "http://[::1]:1/"} {
		if _, err := New(Options{Issuer: iss, Audience: "a"}); err != nil {
			t.Errorf("%s refused: %v", iss, err)
		}
	}
	if _, err := New(Options{Issuer: "https://as.example.com?x=1", Audience: "a"}); err == nil {
		t.Error("issuer with a query accepted")
	}
}
