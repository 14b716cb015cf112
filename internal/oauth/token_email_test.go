package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// requireEmailClaim fails unless the access token in r carries email as a
// verified email, or, when email is "", no email claim at all.
func requireEmailClaim(t *testing.T, what string, r testenv.Reply, email string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, r.Status, r.Raw)
	}
	claims := testenv.JWTPayload(t, r.Get("access_token"))
	e, hasEmail := claims["email"]
	v, hasVerified := claims["email_verified"]
	if email == "" {
		if hasEmail || hasVerified {
			t.Errorf("%s: email %#v, email_verified %#v; want neither", what, e, v)
		}
		return
	}
	if e != email || v != true {
		t.Errorf("%s: email %#v, email_verified %#v; want %q, true", what, e, v, email)
	}
}

// SPEC PX-7, PX-8: the verified email the user logged in with reaches
// mcpgate's access tokens, and stays there through refreshes, including
// those that re-check the user with the provider. The local provider
// vouches for the email the operator configured.
func TestAccessTokenCarriesVerifiedEmail(t *testing.T) {
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	g := testenv.New(t, testenv.Options{Now: clock.Now})
	f, tok := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
	requireEmailClaim(t, "code exchange", tok, "alice@example.com")
	if c := g.RequireValid(t, tok.Get("access_token"), g.Resource(testenv.FilesPath)); c.Email != "alice@example.com" || !c.EmailVerified {
		t.Errorf("verified claims: email %q, email_verified %v", c.Email, c.EmailVerified)
	}

	next := g.RefreshFlow(f, tok.Get("refresh_token"), nil)
	requireEmailClaim(t, "refresh", next, "alice@example.com")
	clock.Advance(20 * time.Minute) // due for a user re-check
	next = g.RefreshFlow(f, next.Get("refresh_token"), nil)
	requireEmailClaim(t, "refresh after a re-check", next, "alice@example.com")
}

// A user the provider knows no email for gets a token without one.
func TestAccessTokenWithoutEmail(t *testing.T) {
	const dave = "dave"
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	g := testenv.New(t, testenv.Options{Now: clock.Now, Mutate: func(c *config.Config) {
		u := c.IdentityProviders[0].Users[0]
		u.Username, u.Email = dave, ""
		c.IdentityProviders[0].Users = append(c.IdentityProviders[0].Users, u)
	}})
	f, tok := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.Resource(testenv.FilesPath), dave)
	requireEmailClaim(t, "code exchange", tok, "")
	clock.Advance(20 * time.Minute)
	requireEmailClaim(t, "refresh after a re-check", g.RefreshFlow(f, tok.Get("refresh_token"), nil), "")
}

// mailIdP is an upstream IdP whose answer about the user's email the test
// changes between login and re-checks.
type mailIdP struct {
	*fakeIdP
	mu       sync.Mutex
	email    string
	verified bool
}

func (m *mailIdP) set(email string, verified bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.email, m.verified = email, verified
}

func (m *mailIdP) withEmail(id login.Identity) login.Identity {
	m.mu.Lock()
	defer m.mu.Unlock()
	id.Email, id.EmailVerified = m.email, m.verified
	return id
}

func (m *mailIdP) HandleCallback(ctx context.Context, cb string, q url.Values, verifier, nonce string) (login.Identity, error) {
	id, err := m.fakeIdP.HandleCallback(ctx, cb, q, verifier, nonce)
	return m.withEmail(id), err
}

func (m *mailIdP) Refresh(_ context.Context, id login.Identity) (login.Identity, error) {
	return m.withEmail(id), nil
}

// mailIdPTokens logs in through the mail IdP in b and redeems the code.
func mailIdPTokens(t *testing.T, g *testenv.Gateway, b *testenv.Browser) (testenv.Flow, testenv.Reply) {
	t.Helper()
	p := testenv.NewPKCE()
	id := approvedFlow(t, b, publicParams(g, p))
	loc := b.Get("/oauth/login?" + url.Values{"req": {id}, "provider": {"fake"}}.Encode()).Location()
	if loc == nil || loc.Query().Get("state") == "" {
		t.Fatalf("want a redirect to the fake IdP, got %v", loc)
	}
	cb := "/oauth/callback/fake?" + url.Values{"state": {loc.Query().Get("state")}, "code": {"x"}}.Encode()
	q := testenv.ClientRedirect(t, b.Get(cb), http.StatusFound, loopbackCB)
	f := g.NewFlow(testenv.PublicClient, g.Resource(testenv.FilesPath))
	f.PKCE, f.Code = p, q.Get("code")
	return f, g.Exchange(f, nil)
}

// An email the provider did not verify never reaches a token: anyone can
// type any address into an IdP profile, and a policy users rule naming it
// would then admit them (SPEC PX-7). A re-check takes the provider's
// current answer: a newly verified email appears, and one the provider no
// longer vouches for is dropped.
func TestAccessTokenEmailFollowsProvider(t *testing.T) {
	idp := &mailIdP{fakeIdP: &fakeIdP{}}
	idp.set("carol@idp.example", false)
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{idp}, Now: clock.Now})
	b := g.NewBrowser()
	f, tok := mailIdPTokens(t, g, b)
	requireEmailClaim(t, "login with an unverified email", tok, "")

	idp.set("carol@idp.example", true)
	next := g.RefreshFlow(f, tok.Get("refresh_token"), nil)
	requireEmailClaim(t, "refresh before the re-check is due", next, "")
	clock.Advance(20 * time.Minute)
	next = g.RefreshFlow(f, next.Get("refresh_token"), nil)
	requireEmailClaim(t, "refresh after a re-check finds it verified", next, "carol@idp.example")

	// The browser session is re-checked too: a new grant from it carries
	// the provider's current answer, not the one from login.
	idp.set("carol@new.example", true)
	_, fresh := g.Tokens(b, testenv.PublicClient, g.Resource(testenv.FilesPath), "")
	requireEmailClaim(t, "new grant from a re-checked session", fresh, "carol@new.example")

	idp.set("carol@new.example", false)
	clock.Advance(20 * time.Minute)
	next = g.RefreshFlow(f, next.Get("refresh_token"), nil)
	requireEmailClaim(t, "refresh after a re-check finds it unverified", next, "")
}
