package extauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// introAS is an AS that issues opaque tokens: the answer for each token is
// in answers (absent: inactive).
func introAS(t *testing.T, answers map[string]map[string]any, edit func(*Options)) (*fakeAS, *Verifier, *clock.Clock) {
	as := newFakeAS(t, "/oauth2/default", metaSuffixed)
	as.publish(rsaJWK(rsaKey(0), "k1"))
	as.introspect = func(tok string) map[string]any { return answers[tok] }
	clk := clock.New(t0)
	v := newVerifier(t, as, clk, func(o *Options) {
		o.Introspection = &Introspection{ClientID: "gateway", ClientSecret: "s3cret"}
		if edit != nil {
			edit(o)
		}
	})
	return as, v, clk
}

// oktaIntrospection is an Okta-shaped active answer.
func oktaIntrospection(as *fakeAS, exp time.Time) map[string]any {
	return map[string]any{
		"active": true, "scope": "mcp:read mcp:write", "username": "alice@acme.com", "sub": "alice@acme.com",
		"exp": exp.Unix(), "iat": t0.Unix(), "aud": "api://mcp", "iss": as.issuer,
		"jti": "AT.x1", "token_type": "Bearer", "client_id": "0oa1client", "uid": "00u1user",
	}
}

func TestIntrospection(t *testing.T) {
	answers := map[string]map[string]any{}
	as, v, _ := introAS(t, answers, nil)
	answers["opaque-ok"] = oktaIntrospection(as, t0.Add(time.Hour))
	c := mustVerify(t, v, "opaque-ok")
	if c.Subject != "alice@acme.com" || c.ClientID != "0oa1client" || !slices.Equal(c.Scopes, []string{"mcp:read", "mcp:write"}) || !c.Expiry.Equal(t0.Add(time.Hour)) {
		t.Errorf("claims: %+v", c)
	}
	// client_secret_basic, token in the body and never in the URL.
	if as.introAuth[0] != "gateway:s3cret" || as.introQuery[0] != "" {
		t.Errorf("auth %q, query %q", as.introAuth[0], as.introQuery[0])
	}

	bad := func(edit func(m map[string]any)) map[string]any {
		m := oktaIntrospection(as, t0.Add(time.Hour))
		edit(m)
		return m
	}
	answers["opq_wrong_aud"] = bad(func(m map[string]any) { m["aud"] = "api://other" })
	answers["opq_aud_list"] = bad(func(m map[string]any) { m["aud"] = []string{"api://other", "api://mcp"} })
	answers["opq_no_aud"] = bad(func(m map[string]any) { delete(m, "aud") })
	answers["opq_wrong_iss"] = bad(func(m map[string]any) { m["iss"] = "https://evil.example" })
	answers["opq_expired"] = bad(func(m map[string]any) { m["exp"] = t0.Add(-time.Hour).Unix() })
	answers["opq_no_exp"] = bad(func(m map[string]any) { delete(m, "exp") })
	answers["opq_active_string"] = bad(func(m map[string]any) { m["active"] = "true" })
	for tok, reason := range map[string]string{
		"opq_inactive":      "not active",
		"opq_wrong_aud":     "introspection: wrong audience",
		"opq_no_aud":        "introspection: no aud",
		"opq_wrong_iss":     "introspection: wrong issuer",
		"opq_expired":       "introspection: expired",
		"opq_no_exp":        "introspection: no exp",
		"opq_active_string": "not active",
	} {
		_, err := v.Verify(context.Background(), tok)
		wantInvalid(t, err, reason, tok)
	}
	mustVerify(t, v, "opq_aud_list")
}

// TestIntrospectionCache: a positive answer is reused until min(exp, 60s),
// a refusal for NegativeTTL.
func TestIntrospectionCache(t *testing.T) {
	answers := map[string]map[string]any{}
	as, v, clk := introAS(t, answers, nil)
	answers["long"] = oktaIntrospection(as, t0.Add(time.Hour))
	answers["short"] = oktaIntrospection(as, t0.Add(20*time.Second))

	mustVerify(t, v, "long")
	mustVerify(t, v, "long")
	wantIntro(t, as, 1)
	clk.Advance(59 * time.Second)
	mustVerify(t, v, "long")
	wantIntro(t, as, 1)
	clk.Advance(time.Second) // 60 s: ask again
	mustVerify(t, v, "long")
	wantIntro(t, as, 2)

	// Revoked at the AS: seen at the next question, within 60 s, and then
	// refused from the cache.
	delete(answers, "long")
	clk.Advance(60 * time.Second)
	for range 2 {
		_, err := v.Verify(context.Background(), "long")
		wantInvalid(t, err, "not active", "long")
	}
	wantIntro(t, as, 3)

	// Cached only until its exp (20 s after t0, now long past: answered
	// by the AS each time, and refused for expiry).
	clk.Set(t0)
	mustVerify(t, v, "short")
	wantIntro(t, as, 4)
	clk.Advance(19 * time.Second)
	mustVerify(t, v, "short")
	wantIntro(t, as, 4)
	clk.Advance(time.Second)
	if _, err := v.Verify(context.Background(), "short"); err != nil {
		t.Fatalf("within skew after exp: %v", err) // the AS still says active
	}
	wantIntro(t, as, 5)

	// A refusal is remembered for NegativeTTL (30 s), with its reason,
	// then asked again.
	refused := func(tok, reason string) {
		t.Helper()
		_, err := v.Verify(context.Background(), tok)
		wantInvalid(t, err, reason, tok)
	}
	refused("nope", "not active")
	refused("nope", "not active")
	wantIntro(t, as, 6)
	answers["opq_wrong_aud"] = oktaIntrospection(as, t0.Add(time.Hour))
	answers["opq_wrong_aud"]["aud"] = "api://other"
	refused("opq_wrong_aud", "wrong audience")
	refused("opq_wrong_aud", "wrong audience")
	wantIntro(t, as, 7)
	clk.Advance(29 * time.Second)
	refused("nope", "not active")
	wantIntro(t, as, 7)
	clk.Advance(time.Second)
	refused("nope", "not active")
	wantIntro(t, as, 8)
	// A refused token stays refused for NegativeTTL even if the AS would
	// now say otherwise (documented on Introspection.NegativeTTL).
	answers["nope"] = oktaIntrospection(as, t0.Add(time.Hour))
	refused("nope", "not active")
	wantIntro(t, as, 8)
}

// TestNegativeTTL: the option sets how long a refusal is remembered, and
// a failure to reach the AS is never remembered.
func TestNegativeTTL(t *testing.T) {
	as, v, clk := introAS(t, nil, func(o *Options) { o.Introspection.NegativeTTL = 5 * time.Second })
	for range 2 {
		_, err := v.Verify(context.Background(), "nope")
		wantInvalid(t, err, "not active", "nope")
	}
	wantIntro(t, as, 1)
	clk.Advance(5 * time.Second)
	_, err := v.Verify(context.Background(), "nope")
	wantInvalid(t, err, "not active", "nope")
	wantIntro(t, as, 2)

	as, v, _ = introAS(t, nil, func(o *Options) { o.Introspection.ClientSecret = "wrong" })
	for range 2 {
		if _, err := v.Verify(context.Background(), "opq_tok"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("wrong client secret: want ErrUnavailable, got %v", err)
		}
	}
	wantIntro(t, as, 2)
}

func TestIntrospectionCacheBounded(t *testing.T) {
	c := newIntroCache[Claims](3)
	for i := range 10 {
		c.put([32]byte{byte(i)}, Claims{Subject: fmt.Sprint(i)}, t0.Add(time.Minute), t0)
		if c.len() > 3 {
			t.Fatalf("cache holds %d entries, bound 3", c.len())
		}
	}
	if _, ok := c.get([32]byte{9}, t0); !ok {
		t.Error("the newest entry was evicted")
	}
	// Expired entries go first.
	c = newIntroCache[Claims](2)
	c.put([32]byte{1}, Claims{}, t0.Add(time.Second), t0)
	c.put([32]byte{2}, Claims{}, t0.Add(time.Hour), t0)
	c.put([32]byte{3}, Claims{}, t0.Add(time.Hour), t0.Add(2*time.Second))
	if _, ok := c.get([32]byte{2}, t0.Add(2*time.Second)); !ok {
		t.Error("a live entry was evicted while an expired one was there")
	}
}

// TestImpliedAudience: an answer without aud passes only with
// ImpliedAudience, and then only if the introspecting client is the
// audience.
func TestImpliedAudience(t *testing.T) {
	answers := map[string]map[string]any{}
	as, v, _ := introAS(t, answers, func(o *Options) {
		o.Audience = "gateway"
		o.Introspection.ImpliedAudience = true
	})
	m := oktaIntrospection(as, t0.Add(time.Hour))
	delete(m, "aud")
	answers["opq_t"] = m
	mustVerify(t, v, "opq_t")

	v2 := newVerifier(t, as, clock.New(t0), func(o *Options) { // audience api://mcp
		o.Introspection = &Introspection{ClientID: "gateway", ClientSecret: "s3cret", ImpliedAudience: true}
	})
	_, err := v2.Verify(context.Background(), "opq_t")
	wantInvalid(t, err, "introspection: wrong audience", "opq_t")
}

// TestIntrospectionFailures: the endpoint unreachable or refusing our
// credentials is ErrUnavailable, never ErrInvalidToken.
func TestIntrospectionFailures(t *testing.T) {
	_, v, _ := introAS(t, nil, func(o *Options) { o.Introspection.ClientSecret = "wrong" })
	if _, err := v.Verify(context.Background(), "opq_tok"); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("wrong client secret: want ErrUnavailable, got %v", err)
	}
	as, v, _ := introAS(t, nil, nil)
	as.down.Store(true)
	if _, err := v.Verify(context.Background(), "opq_tok"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("AS down: want ErrUnavailable, got %v", err)
	}
	// No introspection configured: an opaque token is simply invalid.
	_, v, _ = oktaAS(t)
	_, err := v.Verify(context.Background(), "opq_opaque")
	wantInvalid(t, err, "introspection is not configured", "opq_opaque")
}

// TestIntrospectionOnly: an AS without jwks_uri; JWT-shaped tokens go to
// introspection too, and the verifier is ready once discovery ran.
func TestIntrospectionOnly(t *testing.T) {
	answers := map[string]map[string]any{}
	as, v, clk := introAS(t, answers, nil)
	as.noJWKS = true
	jwt := oktaToken(as, clk.Now(), rsaKey(0), "k1")
	answers[jwt] = oktaIntrospection(as, t0.Add(time.Hour))
	if v.Ready() {
		t.Fatal("Ready before discovery")
	}
	mustVerify(t, v, jwt)
	wantIntro(t, as, 1)
	if as.jwksHits.Load() != 0 || !v.Ready() {
		t.Errorf("JWKS hits %d, Ready %v", as.jwksHits.Load(), v.Ready())
	}
}

func wantIntro(t *testing.T, as *fakeAS, n int64) {
	t.Helper()
	if got := as.introHits.Load(); got != n {
		t.Fatalf("introspection called %d times, want %d", got, n)
	}
}
