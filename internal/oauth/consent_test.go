package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// consentPage starts a flow for params and returns the consent step's
// answer and the pending request ID.
func consentPage(t *testing.T, b *testenv.Browser, params url.Values) (testenv.Response, string) {
	t.Helper()
	id := b.StartFlow(params)
	return b.Get("/oauth/consent?req=" + id), id
}

// requireConsentShown fails unless resp is the consent page.
func requireConsentShown(t *testing.T, resp testenv.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `value="approve"`) {
		t.Fatalf("want the consent page, got %d (Location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// requireConsentSkipped fails unless resp goes straight back to the
// client with a code.
func requireConsentSkipped(t *testing.T, resp testenv.Response, redirectURI string) {
	t.Helper()
	if q := testenv.ClientRedirect(t, resp, http.StatusFound, redirectURI); q.Get("code") == "" {
		t.Fatalf("consent skipped but no code: %v", q)
	}
}

// TestConsentPageNamesWhatIsAsked: the user decides on the client's name,
// where the code will go, who registered the client, the scopes and the
// resource (SPEC AS-3); the page cannot be framed (clickjacking the Allow
// button, RFC 6749 §10.13).
func TestConsentPageNamesWhatIsAsked(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	params := g.AuthParams(testenv.PublicClient, "http://127.0.0.1:54321/callback", g.Resource(testenv.FilesPath), testenv.NewPKCE())
	params.Set("scope", "files:write")
	resp, _ := consentPage(t, g.NewBrowser(), params)
	requireConsentShown(t, resp)
	for _, want := range []string{
		"Test public app", "(test-public)", "<code>127.0.0.1:54321</code>", "(pre-registered)",
		"<code>files:write</code>: Change files", "<code>" + g.Resource(testenv.FilesPath) + "</code>",
	} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if strings.Contains(resp.Body, "localhost") {
		t.Error("a client with a non-loopback redirect URI got the localhost warning")
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q lacks frame-ancestors 'none'", csp)
	}
}

// TestConsentPageShowsPrivateUseURI: a private-use scheme has no host; the
// whole URI is its only identity, so the page shows it (SPEC AS-2).
func TestConsentPageShowsPrivateUseURI(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	params := g.AuthParams(testenv.PublicClient, "cursor://test/callback", g.Resource(testenv.FilesPath), testenv.NewPKCE())
	resp, _ := consentPage(t, g.NewBrowser(), params)
	if !strings.Contains(resp.Body, "<code>cursor://test/callback</code>") {
		t.Fatalf("consent page does not show the private-use redirect URI:\n%s", resp.Body)
	}
}

// TestConsentPageWarnsLocalhostOnlyClient: a client whose every redirect
// URI is loopback could be any program on the machine (SPEC AS-3).
func TestConsentPageWarnsLocalhostOnlyClient(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	params := g.AuthParams(testenv.NoRefreshClient, loopbackCB, g.Resource(testenv.FilesPath), testenv.NewPKCE())
	resp, _ := consentPage(t, g.NewBrowser(), params)
	requireConsentShown(t, resp)
	if !strings.Contains(resp.Body, "only returns to your own computer (localhost)") {
		t.Fatalf("no localhost warning for a loopback-only client:\n%s", resp.Body)
	}
}

// TestConsentPageShowsDynamicRegistration: a client that registered itself
// (RFC 7591) is labelled so and flagged as unverified.
func TestConsentPageShowsDynamicRegistration(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	meta := `{"client_name":"Self Made","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code"],"response_types":["code"]}`
	resp, err := http.Post(g.URL+"/oauth/register", "application/json", strings.NewReader(meta))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %v", resp.StatusCode, err)
	}
	params := g.AuthParams(reg.ClientID, "http://127.0.0.1/cb", g.Resource(testenv.FilesPath), testenv.NewPKCE())
	page, _ := consentPage(t, g.NewBrowser(), params)
	for _, want := range []string{"Self Made", "(dynamic registration)", "registered itself", "only returns to your own computer"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("consent page for a DCR client lacks %q", want)
		}
	}
}

// TestConsentAndLoginPostsAnswer303: a 307 after a POST makes the browser
// re-POST the form, password included, to the next hop (RFC 9700 §4.12).
func TestConsentAndLoginPostsAnswer303(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	want := func(step string, resp testenv.Response) {
		t.Helper()
		if resp.StatusCode != http.StatusSeeOther || resp.Location() == nil {
			t.Errorf("%s: status %d, want 303 with a Location", step, resp.StatusCode)
		}
	}
	id := b.StartFlow(publicParams(g, testenv.NewPKCE()))
	want("consent approve (no session)", b.SubmitConsent(id, "approve"))
	want("failed login", b.SubmitLogin(id, testenv.Alice, "wrong"))
	want("successful login", b.SubmitLogin(id, testenv.Alice, testenv.Password))
	params := publicParams(g, testenv.NewPKCE())
	params.Set("prompt", "consent")
	want("consent approve (signed in)", b.SubmitConsent(b.StartFlow(params), "approve"))
	want("consent deny", b.SubmitConsent(b.StartFlow(params), "deny"))
}

// TestConsentDenyReturnsAccessDenied: RFC 6749 §4.1.2.1 access_denied with
// state and iss; the pending request is gone.
func TestConsentDenyReturnsAccessDenied(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	id := b.StartFlow(publicParams(g, testenv.NewPKCE()))
	requireRedirectError(t, g, b.SubmitConsent(id, "deny"), http.StatusSeeOther, loopbackCB, "access_denied", "xyz-state")
	testenv.RequireErrorPage(t, b.SubmitConsent(id, "approve"), http.StatusBadRequest)
}

// TestConsentRefusesAnotherBrowser: approving a pending request needs the
// flow cookie of the browser that started it, so an attacker cannot get a
// victim to approve (or be logged into) the attacker's flow (SPEC AS-3).
func TestConsentRefusesAnotherBrowser(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	owner, other := g.NewBrowser(), g.NewBrowser()
	id := owner.StartFlow(publicParams(g, testenv.NewPKCE()))
	other.StartFlow(publicParams(g, testenv.NewPKCE())) // has a flow cookie, just not this one
	testenv.RequireErrorPage(t, other.Get("/oauth/consent?req="+id), http.StatusBadRequest)
	testenv.RequireErrorPage(t, other.SubmitConsent(id, "approve"), http.StatusBadRequest)
	var found bool
	for _, e := range g.AuditEvents("suspicious_activity") {
		found = found || e.Details["reason"] == "flow_not_bound_to_browser" && e.Client == testenv.PublicClient
	}
	if !found {
		t.Errorf("no suspicious_activity audit event:\n%s", g.Audit.String())
	}
	requireNotApproved(t, owner, id)
}

// requireNotApproved checks that the pending request id was not approved:
// its login step still sends the browser back to consent.
func requireNotApproved(t *testing.T, b *testenv.Browser, id string) {
	t.Helper()
	loc := b.Get("/oauth/login?req=" + id).Location()
	if loc == nil || loc.Path != "/oauth/consent" || loc.Query().Get("req") != id {
		t.Fatalf("pending request %s was approved (login step answers %v)", id, loc)
	}
}

// TestConsentRefusesCrossOriginPost: a cross-site form post to the consent
// endpoint is refused before the handler (CSRF; CrossOriginProtection).
func TestConsentRefusesCrossOriginPost(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	id := b.StartFlow(publicParams(g, testenv.NewPKCE()))
	resp := b.PostFrom("/oauth/consent", url.Values{"req": {id}, "action": {"approve"}}, "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin consent POST: %d, want 403", resp.StatusCode)
	}
	requireNotApproved(t, b, id)
}

// TestConsentComesBeforeLogin: without a session the user approves first
// and logs in after, so no IdP is contacted for an unapproved client.
func TestConsentComesBeforeLogin(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	id := b.StartFlow(publicParams(g, testenv.NewPKCE()))
	requireNotApproved(t, b, id)
	testenv.RequireErrorPage(t, b.SubmitLogin(id, testenv.Alice, testenv.Password), http.StatusBadRequest)
	if len(g.AuditEvents("session_created")) != 0 {
		t.Fatal("a login before consent created a session")
	}
	if loc := b.SubmitConsent(id, "approve").Location(); loc == nil || loc.Path != "/oauth/login" {
		t.Fatalf("approval without a session goes to %v, want /oauth/login", loc)
	}
}

// TestConsentRememberedOnlyForTheSameRequest: a stored approval covers a
// later request for the same user, client, redirect URI, resource and
// scopes; anything broader, prompt=consent, another redirect URI or
// another resource asks again (SPEC AS-3).
func TestConsentRememberedOnlyForTheSameRequest(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	g.Login(b, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)

	t.Run("same request skips the page", func(t *testing.T) {
		resp, _ := consentPage(t, b, publicParams(g, testenv.NewPKCE()))
		requireConsentSkipped(t, resp, loopbackCB)
	})
	// The approval is stored under the registered redirect URI the request
	// matched: a native app on a new ephemeral loopback port (RFC 8252
	// §7.3) is the same redirect and is not asked again.
	t.Run("same loopback URI on another port skips the page", func(t *testing.T) {
		params := publicParams(g, testenv.NewPKCE())
		params.Set("redirect_uri", "http://127.0.0.1:54321/callback")
		resp, _ := consentPage(t, b, params)
		requireConsentSkipped(t, resp, "http://127.0.0.1:54321/callback")
	})
	asksAgain := map[string]func(url.Values){
		"broader scope":  func(v url.Values) { v.Set("scope", "files:write") },
		"prompt=consent": func(v url.Values) { v.Set("prompt", "consent") },
		"other resource": func(v url.Values) { // same scope, so only the resource differs
			v.Set("resource", g.Resource(testenv.AdminPath))
			v.Set("scope", "files:read")
		},
		"other redirect": func(v url.Values) { v.Set("redirect_uri", "cursor://test/callback") },
	}
	for name, mutate := range asksAgain {
		t.Run(name+" asks again", func(t *testing.T) {
			params := publicParams(g, testenv.NewPKCE())
			mutate(params)
			resp, _ := consentPage(t, b, params)
			requireConsentShown(t, resp)
		})
	}
}

// TestConsentRevokedAsksAgain: approvals are revocable (SPEC AS-3); the
// next flow shows the page again.
func TestConsentRevokedAsksAgain(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	g.Login(b, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
	consents := &session.Consents{Store: g.Store()}
	n, err := consents.Revoke(context.Background(), "local:"+testenv.Alice, testenv.PublicClient)
	if err != nil || n != 1 {
		t.Fatalf("revoke: %d %v", n, err)
	}
	resp, _ := consentPage(t, b, publicParams(g, testenv.NewPKCE()))
	requireConsentShown(t, resp)
}
