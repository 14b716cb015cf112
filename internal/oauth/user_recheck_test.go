package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// unreachableIdP logs users in but, while down, cannot answer a re-check,
// as an IdP that is down (or kept down by an attacker) would.
type unreachableIdP struct {
	*fakeIdP
	down *atomic.Bool
}

func (u unreachableIdP) Refresh(_ context.Context, id login.Identity) (login.Identity, error) {
	if u.down.Load() {
		return login.Identity{}, errors.New("idp unreachable")
	}
	return id, nil
}

// SPEC AS-6: a re-check the provider cannot answer keeps the grant for a
// short outage, but once the last good check is an hour old the refresh
// is refused (503) until the provider answers again: keeping the IdP from
// answering must not keep a disabled user's grant alive, and the outage
// must not destroy the grant either (the refused refresh consumes
// nothing).
func TestRefreshRecheckFailsClosedAfterAnHour(t *testing.T) {
	idp := unreachableIdP{&fakeIdP{}, &atomic.Bool{}}
	idp.down.Store(true)
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{idp}, Now: clock.Now})
	b := g.NewBrowser()
	p := testenv.NewPKCE()
	id := approvedFlow(t, b, publicParams(g, p))
	loc := b.Get("/oauth/login?" + url.Values{"req": {id}, "provider": {"fake"}}.Encode()).Location()
	if loc == nil || loc.Query().Get("state") == "" {
		t.Fatalf("want a redirect to the fake IdP, got %v", loc)
	}
	state := loc.Query().Get("state")
	q := testenv.ClientRedirect(t, b.Get("/oauth/callback/fake?"+url.Values{"state": {state}, "code": {"x"}}.Encode()), http.StatusFound, loopbackCB)
	f := g.NewFlow(testenv.PublicClient, g.Resource(testenv.FilesPath))
	f.PKCE, f.Code = p, q.Get("code")
	tok := g.Exchange(f, nil)
	if tok.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", tok.Status, tok.Raw)
	}

	clock.Advance(20 * time.Minute) // due for a re-check, which fails: kept
	next := g.RefreshFlow(f, tok.Get("refresh_token"), nil)
	if next.Status != http.StatusOK {
		t.Fatalf("refresh during a short IdP outage: %d %s", next.Status, next.Raw)
	}
	clock.Advance(41 * time.Minute) // 61 minutes since the last good check
	testenv.RequireOAuthError(t, g.RefreshFlow(f, next.Get("refresh_token"), nil), http.StatusServiceUnavailable, "temporarily_unavailable")
	clock.Advance(time.Minute) // past the grace window: a consumed token would now count as reuse
	idp.down.Store(false)
	if again := g.RefreshFlow(f, next.Get("refresh_token"), nil); again.Status != http.StatusOK {
		t.Fatalf("refresh once the provider answers again: %d %s (the refused refresh consumed the token?)", again.Status, again.Raw)
	}
}

// A browser session is re-checked like a refresh family: while the
// provider cannot answer it keeps working for an hour after login, then it
// ends and the user must log in again; it cannot keep starting fresh
// grants for its whole absolute lifetime.
func TestSessionRecheckFailsClosedAfterAnHour(t *testing.T) {
	idp := unreachableIdP{&fakeIdP{}, &atomic.Bool{}}
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{idp}, Now: clock.Now})
	b := g.NewBrowser()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	loc := b.Get("/oauth/login?" + url.Values{"req": {id}, "provider": {"fake"}}.Encode()).Location()
	testenv.ClientRedirect(t, b.Get("/oauth/callback/fake?"+url.Values{"state": {loc.Query().Get("state")}, "code": {"x"}}.Encode()), http.StatusFound, loopbackCB)
	idp.down.Store(true)

	clock.Advance(20 * time.Minute) // due for a re-check, which fails: kept
	id = b.StartFlow(publicParams(g, testenv.NewPKCE()))
	if next := b.Get("/oauth/consent?req=" + id).Location(); next == nil || next.Query().Get("code") == "" {
		t.Fatal("a short provider outage ended the session")
	}
	clock.Advance(41 * time.Minute) // an hour after login, still unconfirmed
	id = b.StartFlow(publicParams(g, testenv.NewPKCE()))
	if next := b.Get("/oauth/consent?req=" + id).Location(); next != nil && next.Query().Get("code") != "" {
		t.Fatal("a session the provider has not confirmed for an hour still got a code")
	}
	ended := g.AuditEvents("session_terminated")
	if len(ended) == 0 || ended[len(ended)-1].Details["reason"] != "user_check_failed" {
		t.Fatalf("no session_terminated with reason user_check_failed: %+v", ended)
	}
}

// SPEC AS-9: groups changed at the provider reach the grants a browser
// session starts after its re-check: alice, added to admins, can then be
// granted admin:all without logging in again.
func TestSessionRecheckTakesNewGroups(t *testing.T) {
	g, clock := tokenGateway(t, nil)
	b := g.NewBrowser()
	g.Tokens(b, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
	g.Close()
	g.Config.IdentityProviders[0].Users[0].Groups = []string{"staff", "admins"} // alice
	g = g.Restart(t, testenv.Options{Now: clock.Now})
	b.G = g

	clock.Advance(16 * time.Minute)
	f := g.NewFlow(testenv.PublicClient, g.Resource(testenv.AdminPath))
	f = g.AuthorizeFlow(b, f, testenv.Alice, url.Values{"scope": {"admin:all"}})
	r := g.Exchange(f, nil)
	if r.Status != http.StatusOK || r.Get("scope") != "admin:all" {
		t.Fatalf("after the re-check alice got %d scope=%q, want admin:all", r.Status, r.Get("scope"))
	}
}
