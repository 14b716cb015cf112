package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// unreachableIdP logs users in but cannot answer a re-check, as an IdP
// that is down (or kept down by an attacker) would.
type unreachableIdP struct{ *fakeIdP }

func (unreachableIdP) Refresh(context.Context, login.Identity) (login.Identity, error) {
	return login.Identity{}, errors.New("idp unreachable")
}

// SPEC AS-6: a re-check the provider cannot answer keeps the grant for a
// short outage, but a grant whose last good check is an hour old is
// revoked: keeping the IdP from answering must not keep a disabled user's
// grant alive.
func TestRefreshRecheckFailsClosedAfterAnHour(t *testing.T) {
	idp := unreachableIdP{&fakeIdP{}}
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
	testenv.RequireOAuthError(t, g.RefreshFlow(f, next.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
	if ev := g.AuditEvents("token_revoked"); len(ev) == 0 || ev[len(ev)-1].Details["reason"] != "user_check_failed" {
		t.Fatalf("no token_revoked event with reason user_check_failed: %+v", ev)
	}
}
