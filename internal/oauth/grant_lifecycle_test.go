package oauth_test

import (
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// SPEC AS-5a: a code issued before the kill switch and redeemed after it
// yields nothing. Its user logged in before the epoch, so a fresh iat
// would otherwise slip past the epoch and start a new 30-day grant.
func TestKillSwitchRefusesCodeIssuedBefore(t *testing.T) {
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	b := g.NewBrowser()
	_, first := g.Tokens(b, testenv.PublicClient, files, testenv.Alice)
	pending := g.AuthorizeFlow(b, g.NewFlow(testenv.PublicClient, files), testenv.Alice, nil) // code not redeemed yet

	clock.Advance(time.Second)
	killSwitch(t, g, clock, "local:alice")
	if took, err := g.WaitRevoked(first.Get("access_token"), files, revocationBound); err != nil {
		t.Fatalf("the kill switch did not reach the gateway within %v: %v", took, err)
	}
	testenv.RequireOAuthError(t, g.Exchange(pending, nil), http.StatusBadRequest, "invalid_grant")
}

// A replayed code revokes its grant even when the replay lands before the
// first exchange has created the refresh family: the revocation log entry
// outlives the family, and the family is refused at its first refresh.
// (The race itself is timing; this drives its outcome: the family is
// created after the log revoked its sid.)
func TestFamilyRevokedInLogBeforeItExisted(t *testing.T) {
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, r := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Alice)
	sid, _ := testenv.JWTPayload(t, r.Get("access_token"))["sid"].(string)
	// Revoke the sid in the log only, leaving the family record as it is,
	// as a replay that raced the exchange (and found no family) does.
	rev := storage.Revocation{Kind: storage.RevokeFamily, Key: sid, Reason: "code_replay",
		CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(31 * 24 * time.Hour)}
	if err := g.Store().AddRevocation(t.Context(), rev); err != nil {
		t.Fatal(err)
	}
	if took, err := g.WaitRevoked(r.Get("access_token"), files, revocationBound); err != nil {
		t.Fatalf("the log entry did not reach the gateway within %v: %v", took, err)
	}
	clock.Advance(time.Hour) // the access token is long expired; the family is not
	testenv.RequireOAuthError(t, g.RefreshFlow(f, r.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
	fam, err := g.Store().GetRefreshFamily(t.Context(), sid)
	if err != nil || !fam.Revoked() {
		t.Fatalf("family after a refused refresh: %+v, %v; want revoked in the store too", fam, err)
	}
}

// A double-submitted consent form (or two tabs) turns one pending
// authorization into one code, never several.
func TestPendingAuthorizationFinishesOnce(t *testing.T) {
	b, id := signedInConsentStep(t)
	first := b.SubmitConsent(id, "approve")
	if loc := first.Location(); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("first approval: %d %v, want a code", first.StatusCode, loc)
	}
	second := b.SubmitConsent(id, "approve")
	if loc := second.Location(); loc != nil && loc.Query().Get("code") != "" {
		t.Fatal("a second approval of the same pending authorization issued a second code")
	}
	testenv.RequireErrorPage(t, second, http.StatusBadRequest)
}

// SPEC AS-9: the hierarchy is honoured by stored consent too: approving
// files:write covers a later request for files:read.
func TestConsentHonoursScopeHierarchy(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	files := g.Resource(testenv.FilesPath)
	b := g.NewBrowser()
	g.AuthorizeFlow(b, g.NewFlow(testenv.PublicClient, files), testenv.Alice, url.Values{"scope": {"files:write"}})
	params := g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", files, testenv.NewPKCE())
	params.Set("scope", "files:read")
	resp := b.Get(b.Get("/oauth/authorize?" + params.Encode()).Location().String())
	if loc := resp.Location(); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("files:read after approving files:write asked again: %d", resp.StatusCode)
	}
}

// A browser session of a user removed from the provider stops starting
// new grants once it is due for a re-check (SPEC AS-6's 15 minutes),
// instead of for its whole absolute lifetime.
func TestSessionOfRemovedUserStopsAuthorizing(t *testing.T) {
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	b := g.NewBrowser()
	g.Tokens(b, testenv.PublicClient, files, testenv.Alice)
	g.Close()
	g.Config.IdentityProviders[0].Users = g.Config.IdentityProviders[0].Users[1:] // alice removed
	g = g.Restart(t, testenv.Options{Now: clock.Now})
	b.G = g

	clock.Advance(16 * time.Minute)
	id := b.StartFlow(g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", files, testenv.NewPKCE()))
	page := b.Get("/oauth/consent?req=" + id)
	if loc := page.Location(); loc != nil && loc.Query().Get("code") != "" {
		t.Fatal("a removed user's browser session still got a code")
	}
	if next := b.SubmitConsent(id, "approve").Location(); next == nil || next.Path != "/oauth/login" {
		t.Fatalf("after approving, went to %v; want the login form", next)
	}
}

// OAuth 2.1 §4.1.3: a client that left redirect_uri out of its
// authorization request (allowed with one registered URI) may leave it out
// at the token endpoint too.
func TestRedirectURIOmittedAtBothSteps(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	files := g.Resource(testenv.FilesPath)
	f := g.NewFlow(testenv.NoRefreshClient, files)
	f = g.AuthorizeFlow(g.NewBrowser(), f, testenv.Alice, url.Values{"redirect_uri": nil})
	if r := g.Exchange(f, url.Values{"redirect_uri": nil}); r.Status != http.StatusOK {
		t.Fatalf("exchange without redirect_uri: %d %s", r.Status, r.Raw)
	}
	// A client with two registered URIs must still name one.
	p := g.NewFlow(testenv.PublicClient, files)
	p = g.AuthorizeFlow(g.NewBrowser(), p, testenv.Alice, nil)
	testenv.RequireOAuthError(t, g.Exchange(p, url.Values{"redirect_uri": nil}), http.StatusBadRequest, "invalid_grant")
}

// The claim is atomic: eight approvals of one pending authorization posted
// at once yield exactly one code.
func TestPendingAuthorizationFinishesOnceConcurrently(t *testing.T) {
	b, id := signedInConsentStep(t)
	var wg sync.WaitGroup
	var codes atomic.Int32
	for range 8 {
		wg.Go(func() {
			if loc := b.SubmitConsent(id, "approve").Location(); loc != nil && loc.Query().Get("code") != "" {
				codes.Add(1)
			}
		})
	}
	wg.Wait()
	if n := codes.Load(); n != 1 {
		t.Fatalf("%d codes from one pending authorization, want 1", n)
	}
}

// A code issued in the same second as the kill switch, but before it, is
// refused too: the epoch compares whole seconds, at or before.
func TestKillSwitchRefusesCodeOfTheSameSecond(t *testing.T) {
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	b := g.NewBrowser()
	_, first := g.Tokens(b, testenv.PublicClient, files, testenv.Alice)
	pending := g.AuthorizeFlow(b, g.NewFlow(testenv.PublicClient, files), testenv.Alice, nil)
	clock.Advance(300 * time.Millisecond) // same second
	killSwitch(t, g, clock, "local:alice")
	if took, err := g.WaitRevoked(first.Get("access_token"), files, revocationBound); err != nil {
		t.Fatalf("the kill switch did not reach the gateway within %v: %v", took, err)
	}
	testenv.RequireOAuthError(t, g.Exchange(pending, nil), http.StatusBadRequest, "invalid_grant")
}

// signedInConsentStep signs alice in, then starts a flow that asks for
// consent again (prompt=consent) and returns the browser and the pending
// authorization, whose approval finishes the flow at once.
func signedInConsentStep(t *testing.T) (*testenv.Browser, string) {
	t.Helper()
	g := testenv.New(t, testenv.Options{})
	files := g.Resource(testenv.FilesPath)
	b := g.NewBrowser()
	g.Tokens(b, testenv.PublicClient, files, testenv.Alice)
	params := g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", files, testenv.NewPKCE())
	params.Set("prompt", "consent")
	return b, b.StartFlow(params)
}
