package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// TestPendingAuthorizationExpiresAfterTenMinutes: a pending authorization
// lives 10 minutes (provider.go authRequestTTL). Nine minutes in, its
// consent page still shows; eleven minutes in, both the page and an
// approval show the expired-flow page and record nothing, so a consent
// link left in a tab or a log cannot be used later.
func TestPendingAuthorizationExpiresAfterTenMinutes(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	g := testenv.New(t, testenv.Options{Driver: "memory", Now: clock.Now})
	b := g.NewBrowser()
	id := b.StartFlow(publicParams(g, testenv.NewPKCE()))

	clock.Advance(9 * time.Minute)
	if page := b.Get("/oauth/consent?req=" + id); page.StatusCode != http.StatusOK {
		t.Fatalf("consent page 9 minutes in: %d, want 200\n%s", page.StatusCode, page.Body)
	}

	clock.Advance(2 * time.Minute)
	requireExpiredPage := func(resp testenv.Response) {
		t.Helper()
		testenv.RequireErrorPage(t, resp, http.StatusBadRequest)
		if !strings.Contains(resp.Body, "expired") {
			t.Fatalf("want the expired-flow page, got:\n%s", resp.Body)
		}
	}
	requireExpiredPage(b.Get("/oauth/consent?req=" + id))
	requireExpiredPage(b.SubmitConsent(id, "approve"))
	if req, err := g.Store().GetAuthRequest(t.Context(), id); err == nil && req.ConsentGranted {
		t.Fatal("an expired pending authorization recorded the approval")
	}
}

// TestClientScopesRestrictAuthorize: a configured client with a scope
// list may ask only for those (or what they cover). files:write is
// broader than files:read, so asking for it is invalid_scope, redirected
// to the client with state and iss (RFC 6749 §4.1.2.1); files:read is
// fine.
func TestClientScopesRestrictAuthorize(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory", Mutate: func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ClientID == testenv.PublicClient {
				c.Clients[i].Scopes = []string{"files:read"}
			}
		}
	}})
	b := g.NewBrowser()
	params := publicParams(g, testenv.NewPKCE())
	params.Set("scope", "files:write")
	requireRedirectError(t, g, b.Get("/oauth/authorize?"+params.Encode()), http.StatusFound, loopbackCB, "invalid_scope", "xyz-state")

	params = publicParams(g, testenv.NewPKCE())
	params.Set("scope", "files:read")
	b.StartFlow(params)
}

// TestTokenBasicAndFormClientIDMustAgree: a client authenticating with
// HTTP Basic that also names a different client_id in the form is refused
// with an RFC 6749 §5.2 error and gets no token; two parsers could
// otherwise disagree about which client is asking. The refusal comes
// before the grant is looked at, so the code is still good for the real
// client, and naming the same client_id twice is accepted.
func TestTokenBasicAndFormClientIDMustAgree(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory"})
	f := g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(testenv.ConfidentialClient, g.Resource(testenv.FilesPath)), testenv.Alice, nil)
	r := g.Exchange(f, url.Values{"client_id": {testenv.PublicClient}})
	testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_request")
	if r.Get("access_token") != "" || r.Get("refresh_token") != "" {
		t.Fatalf("a token was issued: %s", r.Raw)
	}
	if r := g.Exchange(f, url.Values{"client_id": {testenv.ConfidentialClient}}); r.Status != http.StatusOK || r.Get("access_token") == "" {
		t.Fatalf("the matching client_id: %d %s, want a token", r.Status, r.Raw)
	}
}

// namedIdP is a fakeIdP (login_test.go) under another provider ID.
type namedIdP struct {
	*fakeIdP
	id string
}

func (n namedIdP) ID() string          { return n.id }
func (n namedIdP) DisplayName() string { return "IdP " + n.id }

// TestCallbackStateBoundToProvider: an upstream state is bound to the
// provider it was issued for. Presented at another provider's callback
// (an IdP mix-up: RFC 9700 §4.4) it is refused on a page before either
// IdP is asked, signs nobody in and issues nothing; the state stays good
// at its own provider.
func TestCallbackStateBoundToProvider(t *testing.T) {
	a, other := namedIdP{&fakeIdP{}, "idp-a"}, namedIdP{&fakeIdP{}, "idp-b"}
	g := testenv.New(t, testenv.Options{Driver: "memory", Connectors: []login.Connector{a, other}})
	b := g.NewBrowser()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	loc := b.Get("/oauth/login?" + url.Values{"req": {id}, "provider": {"idp-a"}}.Encode()).Location()
	if loc == nil || loc.Host != "idp.example" || loc.Query().Get("state") == "" {
		t.Fatalf("want a redirect to IdP A, got %v", loc)
	}
	query := url.Values{"state": {loc.Query().Get("state")}, "code": {"x"}}.Encode()

	testenv.RequireErrorPage(t, b.Get("/oauth/callback/idp-b?"+query), http.StatusBadRequest)
	if a.callbackCount() != 0 || other.callbackCount() != 0 {
		t.Fatalf("an IdP was asked: A %d, B %d callbacks", a.callbackCount(), other.callbackCount())
	}
	if b.Cookie(session.SessionCookiePlain) != "" || len(g.AuditEvents("session_created")) != 0 ||
		len(g.AuditEvents("oauth_flow_completed")) != 0 {
		t.Fatalf("the callback at the wrong provider was acted on:\n%s", g.Audit.String())
	}

	q := testenv.ClientRedirect(t, b.Get("/oauth/callback/idp-a?"+query), http.StatusFound, loopbackCB)
	if q.Get("code") == "" || a.callbackCount() != 1 {
		t.Fatalf("the state did not complete at its own provider: %v (%d callbacks)", q, a.callbackCount())
	}
}
