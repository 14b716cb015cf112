package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// approvedFlow starts a flow for params in b and approves it; it returns
// the pending request ID, now waiting at the login step.
func approvedFlow(t *testing.T, b *testenv.Browser, params url.Values) string {
	t.Helper()
	id := b.StartFlow(params)
	if loc := b.SubmitConsent(id, "approve").Location(); loc == nil || loc.Path != "/oauth/login" {
		t.Fatalf("approve: want a redirect to the login step, got %v", loc)
	}
	return id
}

// requireBackToForm fails unless resp sends the browser back to the login
// form with the failure flag, not on to the client.
func requireBackToForm(t *testing.T, b *testenv.Browser, resp testenv.Response) {
	t.Helper()
	loc := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/oauth/login" || loc.Query().Get("error") == "" {
		t.Fatalf("want 303 back to the login form, got %d %v", resp.StatusCode, loc)
	}
	if form := b.Get(loc.String()); !strings.Contains(form.Body, "Sign-in failed") {
		t.Fatalf("login form does not show the failure:\n%s", form.Body)
	}
}

// loginFailures returns the login_failed audit events with reason.
func loginFailures(g *testenv.Gateway, reason string) []testenv.AuditEvent {
	var out []testenv.AuditEvent
	for _, e := range g.AuditEvents("login_failed") {
		if e.Details["reason"] == reason {
			out = append(out, e)
		}
	}
	return out
}

// TestLoginWrongPasswordReturnsToForm: a wrong password goes back to the
// form by 303 (never re-posting the password, RFC 9700 §4.12), says so,
// and is audited (SPEC ID-4, AU-1).
func TestLoginWrongPasswordReturnsToForm(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	requireBackToForm(t, b, b.SubmitLogin(id, testenv.Alice, "wrong password"))
	got := loginFailures(g, "bad_credentials")
	if len(got) != 1 || got[0].Details["username"] != testenv.Alice || got[0].Client != testenv.PublicClient || got[0].RequestID == "" {
		t.Fatalf("login_failed events: %+v", got)
	}
	if b.Cookie(session.SessionCookiePlain) != "" {
		t.Fatal("a failed login set a session cookie")
	}
}

// TestLoginLockout: after five failures for a username even the right
// password is refused until the lockout (15 min by default) passes; online
// guessing gets five tries per window (SPEC ID-4).
func TestLoginLockout(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	g := testenv.New(t, testenv.Options{Now: clock.Now})
	b := g.NewBrowser()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	for range 5 {
		requireBackToForm(t, b, b.SubmitLogin(id, testenv.Alice, "guess"))
	}
	requireBackToForm(t, b, b.SubmitLogin(id, testenv.Alice, testenv.Password))
	if len(loginFailures(g, "locked_out")) != 1 {
		t.Fatalf("the locked-out attempt was not audited:\n%s", g.Audit.String())
	}
	clock.Advance(14 * time.Minute) // the pending request (10 min) expired too
	id = approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	requireBackToForm(t, b, b.SubmitLogin(id, testenv.Alice, testenv.Password))

	clock.Advance(time.Minute + time.Second)
	id = approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	q := testenv.ClientRedirect(t, b.SubmitLogin(id, testenv.Alice, testenv.Password), http.StatusSeeOther, loopbackCB)
	if q.Get("code") == "" {
		t.Fatalf("after the lockout the right password gives no code: %v", q)
	}
}

// TestLoginFourFailuresDoNotLock: the fifth failure locks, not the fourth.
func TestLoginFourFailuresDoNotLock(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	for range 4 {
		requireBackToForm(t, b, b.SubmitLogin(id, testenv.Alice, "guess"))
	}
	testenv.ClientRedirect(t, b.SubmitLogin(id, testenv.Alice, testenv.Password), http.StatusSeeOther, loopbackCB)
}

// signedInByPromptNone reports whether b's session cookie still signs it in:
// a prompt=none request for an approved client gets a code, not
// login_required.
func signedInByPromptNone(t *testing.T, g *testenv.Gateway, cookie string) bool {
	t.Helper()
	b := g.NewBrowser()
	b.SetCookie(session.SessionCookiePlain, cookie)
	params := publicParams(g, testenv.NewPKCE())
	params.Set("prompt", "none")
	q := testenv.ClientRedirect(t, b.Get("/oauth/consent?req="+b.StartFlow(params)), http.StatusFound, loopbackCB)
	return q.Get("code") != ""
}

// TestLoginRotatesSessionID: session fixation (SPEC SE-1). A cookie value
// the browser carried before login (planted by an attacker, or a previous
// session) is never the one it carries after, and no longer signs anyone in.
func TestLoginRotatesSessionID(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	planted := strings.Repeat("A", 43) // well-formed: 32 bytes, base64url
	b.SetCookie(session.SessionCookiePlain, planted)
	g.Login(b, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
	first := b.Cookie(session.SessionCookiePlain)
	if first == "" || first == planted {
		t.Fatalf("session cookie after login = %q, want a fresh value", first)
	}
	if signedInByPromptNone(t, g, planted) {
		t.Fatal("the planted cookie signs in")
	}

	// A signed-in browser logging in again (prompt=login) gets a new ID too.
	params := publicParams(g, testenv.NewPKCE())
	params.Set("prompt", "login")
	id := approvedFlow(t, b, params)
	testenv.ClientRedirect(t, b.SubmitLogin(id, testenv.Alice, testenv.Password), http.StatusSeeOther, loopbackCB)
	second := b.Cookie(session.SessionCookiePlain)
	if second == "" || second == first {
		t.Fatalf("session cookie not rotated on re-login: %q", second)
	}
	if signedInByPromptNone(t, g, first) {
		t.Fatal("the cookie from before the re-login still signs in")
	}
	if !signedInByPromptNone(t, g, second) {
		t.Fatal("the new cookie does not sign in")
	}
}

// TestLoginSessionCookieAttributes: HttpOnly (no script reads it),
// SameSite=Lax (not sent on cross-site POSTs), host-only, Path=/. On an
// http loopback public_url the name has no __Host- prefix and no Secure
// flag (SPEC SE-1, HD-3); the flow cookie alike.
func TestLoginSessionCookieAttributes(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	resp := b.Get("/oauth/authorize?" + publicParams(g, testenv.NewPKCE()).Encode())
	requireCookie(t, resp, session.FlowCookiePlain)
	id := resp.Location().Query().Get("req")
	b.SubmitConsent(id, "approve")
	requireCookie(t, b.SubmitLogin(id, testenv.Alice, testenv.Password), session.SessionCookiePlain)
}

func requireCookie(t *testing.T, resp testenv.Response, name string) {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name != name {
			continue
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Domain != "" || c.Path != "/" || c.Value == "" {
			t.Fatalf("cookie %s: %q", name, c.String())
		}
		return
	}
	t.Fatalf("no %s cookie set; Set-Cookie: %q", name, resp.Header.Values("Set-Cookie"))
}

// TestLoginFormRefusesAnotherBrowsersFlow: login CSRF on the local form.
// An attacker who gets the victim's browser to post the attacker's pending
// request (with the attacker's password) must not sign the victim in as the
// attacker: the victim's browser lacks that flow's cookie.
func TestLoginFormRefusesAnotherBrowsersFlow(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	attacker, victim := g.NewBrowser(), g.NewBrowser()
	id := approvedFlow(t, attacker, publicParams(g, testenv.NewPKCE()))
	testenv.RequireErrorPage(t, victim.SubmitLogin(id, testenv.Alice, testenv.Password), http.StatusBadRequest)
	if victim.Cookie(session.SessionCookiePlain) != "" || len(g.AuditEvents("session_created")) != 0 {
		t.Fatal("the victim's browser was signed in")
	}
	if len(g.AuditEvents("suspicious_activity")) != 1 {
		t.Fatalf("want one suspicious_activity event:\n%s", g.Audit.String())
	}
}

// TestLoginRefusesCrossOriginPost: a cross-site page cannot post
// credentials to the login form (login CSRF; CrossOriginProtection).
func TestLoginRefusesCrossOriginPost(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	b := g.NewBrowser()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	form := url.Values{"req": {id}, "provider": {"local"}, "username": {testenv.Alice}, "password": {testenv.Password}}
	if resp := b.PostFrom("/oauth/login", form, "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin login POST: %d, want 403", resp.StatusCode)
	}
	if b.Cookie(session.SessionCookiePlain) != "" {
		t.Fatal("a cross-origin login POST signed the browser in")
	}
}

// TestScopeRestrictedByGroup: admin:all is for group admins (SPEC AS-9).
// Alice's approval cannot hand it to her: with nothing else grantable the
// answer is access_denied. Bob gets it.
func TestScopeRestrictedByGroup(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	params := g.AuthParams(testenv.PublicClient, loopbackCB, g.Resource(testenv.AdminPath), testenv.NewPKCE())
	params.Set("scope", "admin:all")
	loc := g.NewBrowser().Authorize(params, testenv.Alice)
	if loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" {
		t.Fatalf("alice asking for admin:all: %s, want access_denied", loc)
	}
	p := testenv.NewPKCE()
	params = g.AuthParams(testenv.PublicClient, loopbackCB, g.Resource(testenv.AdminPath), p)
	params.Set("scope", "admin:all")
	if tok := issueToken(t, g, g.NewBrowser(), params, p, testenv.Bob); tok["scope"] != "admin:all" {
		t.Fatalf("bob's scope = %v, want admin:all", tok["scope"])
	}
}

// TestScopeRestrictedSubsetGranted: the AS may grant less than asked (RFC
// 6749 §3.3); the token says exactly what was granted.
func TestScopeRestrictedSubsetGranted(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	p := testenv.NewPKCE()
	params := publicParams(g, p)
	params.Set("scope", "files:write admin:all")
	tok := issueToken(t, g, g.NewBrowser(), params, p, testenv.Alice)
	claims := testenv.JWTPayload(t, tok["access_token"].(string))
	if tok["scope"] != "files:write" || claims["scope"] != "files:write" {
		t.Fatalf("scope = %v (token %v), want files:write", tok["scope"], claims["scope"])
	}
}

// TestScopeRestrictionFollowsImpliedScopes: a scope that implies a
// restricted one carries the restriction, or it would be a way around it
// (SPEC AS-9: the hierarchy is honoured everywhere).
func TestScopeRestrictionFollowsImpliedScopes(t *testing.T) {
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		c.Scopes = append(c.Scopes, config.Scope{Name: "ops:all", Description: "Operate", Implies: []string{"admin:all"}})
	}})
	params := g.AuthParams(testenv.PublicClient, loopbackCB, g.Resource(testenv.AdminPath), testenv.NewPKCE())
	params.Set("scope", "ops:all")
	if loc := g.NewBrowser().Authorize(params, testenv.Alice); loc.Query().Get("error") != "access_denied" {
		t.Fatalf("alice asking for ops:all (implies admin:all): %s, want access_denied", loc)
	}
	p := testenv.NewPKCE()
	params = g.AuthParams(testenv.PublicClient, loopbackCB, g.Resource(testenv.AdminPath), p)
	params.Set("scope", "ops:all")
	if tok := issueToken(t, g, g.NewBrowser(), params, p, testenv.Bob); tok["scope"] != "ops:all" {
		t.Fatalf("bob's scope = %v, want ops:all", tok["scope"])
	}
}

// fakeIdP is an upstream identity provider that never leaves the process:
// LoginURL points at idp.example with the state, and HandleCallback
// succeeds for any code unless the query carries an error, after checking
// the PKCE verifier against the challenge it was given for that state.
type fakeIdP struct {
	mu         sync.Mutex
	challenges map[string]string // state -> code_challenge
	callbacks  int
}

var _ login.RedirectConnector = (*fakeIdP)(nil)

func (f *fakeIdP) ID() string          { return "fake" }
func (f *fakeIdP) Type() string        { return "oidc" }
func (f *fakeIdP) DisplayName() string { return "Fake IdP" }

func (f *fakeIdP) LoginURL(callbackURL, state, codeChallenge, nonce string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.challenges == nil {
		f.challenges = map[string]string{}
	}
	f.challenges[state] = codeChallenge
	q := url.Values{"state": {state}, "redirect_uri": {callbackURL}, "code_challenge": {codeChallenge}, "nonce": {nonce}}
	return "https://idp.example/auth?" + q.Encode(), nil
}

func (f *fakeIdP) HandleCallback(_ context.Context, _ string, q url.Values, codeVerifier, _ string) (login.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callbacks++
	sum := sha256.Sum256([]byte(codeVerifier))
	if f.challenges[q.Get("state")] != base64.RawURLEncoding.EncodeToString(sum[:]) {
		return login.Identity{}, errors.New("fake idp: PKCE verifier does not match")
	}
	if e := q.Get("error"); e != "" {
		return login.Identity{}, errors.New("fake idp: " + e)
	}
	return login.Identity{Subject: "carol", Username: "carol", Email: "carol@idp.example", EmailVerified: true}, nil
}

func (f *fakeIdP) callbackCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.callbacks
}

// upstreamState runs b's flow to the redirect to the fake IdP (picked on
// the chooser, next to the local provider) and returns the upstream state.
func upstreamState(t *testing.T, g *testenv.Gateway, b *testenv.Browser) string {
	t.Helper()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	if chooser := b.Get("/oauth/login?req=" + id); !strings.Contains(chooser.Body, "Fake IdP") {
		t.Fatalf("no chooser entry for the fake IdP:\n%s", chooser.Body)
	}
	loc := b.Get("/oauth/login?" + url.Values{"req": {id}, "provider": {"fake"}}.Encode()).Location()
	if loc == nil || loc.Host != "idp.example" || loc.Query().Get("state") == "" {
		t.Fatalf("want a redirect to the fake IdP, got %v", loc)
	}
	return loc.Query().Get("state")
}

// TestLoginCallbackStateBoundToBrowser: login CSRF through the upstream
// IdP (RFC 6749 §10.12, RFC 9700 §4.7; the acceptance point "a callback
// whose state is not bound to this browser is refused"). The attacker
// starts a flow and sends the victim the callback URL with the attacker's
// state; the victim's browser lacks the flow cookie, so no session and no
// code result, and the IdP is not even asked. The attacker's own browser
// can still complete it.
func TestLoginCallbackStateBoundToBrowser(t *testing.T) {
	idp := &fakeIdP{}
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{idp}})
	attacker, victim := g.NewBrowser(), g.NewBrowser()
	state := upstreamState(t, g, attacker)
	victim.StartFlow(publicParams(g, testenv.NewPKCE())) // a flow cookie of its own
	callback := "/oauth/callback/fake?" + url.Values{"state": {state}, "code": {"x"}}.Encode()

	testenv.RequireErrorPage(t, victim.Get(callback), http.StatusBadRequest)
	if victim.Cookie(session.SessionCookiePlain) != "" || len(g.AuditEvents("session_created")) != 0 ||
		len(g.AuditEvents("oauth_flow_completed")) != 0 || idp.callbackCount() != 0 {
		t.Fatalf("the victim's callback was acted on:\n%s", g.Audit.String())
	}
	q := testenv.ClientRedirect(t, attacker.Get(callback), http.StatusFound, loopbackCB)
	if q.Get("code") == "" || attacker.Cookie(session.SessionCookiePlain) == "" {
		t.Fatalf("the flow's own browser did not complete: %v", q)
	}
	testenv.RequireErrorPage(t, attacker.Get(callback), http.StatusBadRequest)
}

// TestLoginCallbackStateSingleUse: the upstream state is cleared at its
// first callback, even one that fails, so a replayed callback URL (from a
// log or the browser history) cannot complete the pending authorization.
func TestLoginCallbackStateSingleUse(t *testing.T) {
	idp := &fakeIdP{}
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{idp}})
	b := g.NewBrowser()
	state := upstreamState(t, g, b)
	failed := b.Get("/oauth/callback/fake?" + url.Values{"state": {state}, "error": {"temporarily_unavailable"}}.Encode())
	requireRedirectError(t, g, failed, http.StatusFound, loopbackCB, "access_denied", "xyz-state")
	replay := b.Get("/oauth/callback/fake?" + url.Values{"state": {state}, "code": {"x"}}.Encode())
	testenv.RequireErrorPage(t, replay, http.StatusBadRequest)
	if idp.callbackCount() != 1 || b.Cookie(session.SessionCookiePlain) != "" {
		t.Fatalf("the replayed state reached the IdP (%d callbacks) or signed in", idp.callbackCount())
	}
}
