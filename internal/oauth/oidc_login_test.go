package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/fakeoidc"
)

// oidcConnector is the real oidc connector for provider id at op.
func oidcConnector(t *testing.T, id string, op *fakeoidc.OP) *login.OIDC {
	t.Helper()
	c, err := login.NewOIDC(config.IdentityProvider{ID: id, Type: "oidc", Issuer: op.Issuer, ClientID: fakeoidc.ClientID,
		ClientSecret: fakeoidc.ClientSecret, Scopes: []string{"openid", "profile", "email"}, GroupsClaim: "groups"},
		login.WithHTTPClient(op.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// toProvider runs b's flow through consent and picks provider on the
// login step; it returns the flow's PKCE and the gateway's answer (the
// redirect to the IdP, or an error page).
func toProvider(t *testing.T, g *testenv.Gateway, b *testenv.Browser, provider string) (testenv.PKCE, testenv.Response) {
	t.Helper()
	p := testenv.NewPKCE()
	id := approvedFlow(t, b, publicParams(g, p))
	return p, b.Get("/oauth/login?" + url.Values{"req": {id}, "provider": {provider}}.Encode())
}

// viaOP sends the browser to the OP (which answers at once, no login
// page) and returns the gateway's answer to the OP's redirect back.
func viaOP(t *testing.T, b *testenv.Browser, op *fakeoidc.OP, toIdP testenv.Response) testenv.Response {
	t.Helper()
	return b.Get(callbackFromOP(t, b, op, toIdP))
}

// callbackFromOP sends the browser to the OP and returns the callback URL
// the OP redirects back to, without visiting it.
func callbackFromOP(t *testing.T, b *testenv.Browser, op *fakeoidc.OP, toIdP testenv.Response) string {
	t.Helper()
	loc := toIdP.Location()
	if loc == nil || !strings.HasPrefix(loc.String(), op.Issuer+"/authorize?") {
		t.Fatalf("want a redirect to the OP, got %d %v\n%s", toIdP.StatusCode, loc, toIdP.Body)
	}
	hc := op.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := resp.Location()
	if err != nil || !strings.HasPrefix(back.String(), b.G.URL+"/oauth/callback/") {
		t.Fatalf("the OP answered %d %v, want a redirect to the gateway's callback", resp.StatusCode, back)
	}
	return back.String()
}

// oidcTokens logs b in at provider and redeems the code.
func oidcTokens(t *testing.T, g *testenv.Gateway, b *testenv.Browser, op *fakeoidc.OP, provider string) map[string]any {
	t.Helper()
	p, toIdP := toProvider(t, g, b, provider)
	q := testenv.ClientRedirect(t, viaOP(t, b, op, toIdP), http.StatusFound, loopbackCB)
	status, body := g.ExchangeCode(testenv.PublicClient, "", q.Get("code"), loopbackCB, p)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	return body
}

// oidcGrant logs b in at provider through op and redeems the code for a
// grant on the files upstream; it returns the flow (for RefreshFlow) and
// the refresh token.
func oidcGrant(t *testing.T, g *testenv.Gateway, b *testenv.Browser, op *fakeoidc.OP, provider string) (testenv.Flow, string) {
	t.Helper()
	p, toIdP := toProvider(t, g, b, provider)
	q := testenv.ClientRedirect(t, viaOP(t, b, op, toIdP), http.StatusFound, loopbackCB)
	f := g.NewFlow(testenv.PublicClient, g.Resource(testenv.FilesPath))
	f.PKCE, f.Code = p, q.Get("code")
	tok := g.Exchange(f, nil)
	if tok.Status != http.StatusOK || tok.Get("refresh_token") == "" {
		t.Fatalf("exchange: %d %s", tok.Status, tok.Raw)
	}
	return f, tok.Get("refresh_token")
}

// requireNoInternals fails if a page shows anything of the server's
// insides.
func requireNoInternals(t *testing.T, resp testenv.Response) {
	t.Helper()
	for _, bad := range []string{"goroutine", ".go:", "oidc:", "login:", "panic", "runtime."} {
		if strings.Contains(resp.Body, bad) || strings.Contains(resp.Header.Get("Location"), bad) {
			t.Fatalf("response leaks %q:\n%s %s", bad, resp.Header.Get("Location"), resp.Body)
		}
	}
}

// TestOIDCChooserAndNamespacedSubjects (SPEC ID-6, AS-5): with the local
// provider and two OIDC providers configured, the chooser lists all of
// them; two IdPs that both call their user "user-1" give two different
// mcpgate users "<provider>:user-1", never one.
func TestOIDCChooserAndNamespacedSubjects(t *testing.T) {
	opA, opB := fakeoidc.New(t), fakeoidc.New(t)
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{oidcConnector(t, "corp", opA), oidcConnector(t, "partner", opB)}})

	b := g.NewBrowser()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	chooser := b.Get("/oauth/login?req=" + id)
	for _, want := range []string{"Username and password", "Corp", "Partner", "provider=corp", "provider=partner", "provider=local"} {
		if !strings.Contains(chooser.Body, want) {
			t.Fatalf("chooser lacks %q:\n%s", want, chooser.Body)
		}
	}

	subA := testenv.JWTPayload(t, oidcTokens(t, g, g.NewBrowser(), opA, "corp")["access_token"].(string))["sub"]
	subB := testenv.JWTPayload(t, oidcTokens(t, g, g.NewBrowser(), opB, "partner")["access_token"].(string))["sub"]
	if subA != "corp:user-1" || subB != "partner:user-1" {
		t.Fatalf("subjects %v and %v, want corp:user-1 and partner:user-1", subA, subB)
	}
	users := map[string]string{}
	for _, e := range g.AuditEvents("session_created") {
		users[e.User] = e.Provider
	}
	if len(users) != 2 || users["corp:user-1"] != "corp" || users["partner:user-1"] != "partner" {
		t.Fatalf("sessions created for %v", users)
	}
}

// TestOIDCLoginKeepsUpstreamTokens: the upstream tokens are kept sealed
// for the user (SPEC ID-5), never in clear in the store.
func TestOIDCLoginKeepsUpstreamTokens(t *testing.T) {
	op := fakeoidc.New(t)
	conn := oidcConnector(t, "corp", op)
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{conn}})
	oidcTokens(t, g, g.NewBrowser(), op, "corp")
	stored, err := g.Store().GetUpstreamToken(context.Background(), "corp:user-1", "corp")
	if err != nil || len(stored.Sealed) == 0 {
		t.Fatalf("upstream token record: %+v, %v", stored, err)
	}
	if strings.Contains(string(stored.Sealed), "refresh_token") || strings.Contains(string(stored.Sealed), "eyJ") {
		t.Fatal("the upstream tokens are stored in clear")
	}
}

// TestOIDCDeniedAtIdP: the user refuses consent at the IdP. The client's
// redirect URI gets error=access_denied with its state, the browser gets
// no session, and the refusal is audited.
func TestOIDCDeniedAtIdP(t *testing.T) {
	op := fakeoidc.New(t)
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{oidcConnector(t, "corp", op)}})
	op.Set(func(op *fakeoidc.OP) { op.DenyWith = "access_denied" })
	b := g.NewBrowser()
	_, toIdP := toProvider(t, g, b, "corp")
	resp := viaOP(t, b, op, toIdP)
	requireRedirectError(t, g, resp, http.StatusFound, loopbackCB, "access_denied", "xyz-state")
	requireNoInternals(t, resp)
	if b.Cookie(session.SessionCookiePlain) != "" {
		t.Fatal("a denied login signed the browser in")
	}
	e := g.RequireAudit(t, "login_failed", "reason", "denied_at_provider", 0)
	if e.Provider != "corp" || e.Details["provider_error"] != "access_denied" {
		t.Fatalf("audit = %+v", e)
	}
}

// TestOIDCBadIDTokenThroughGateway: attack tests through the real
// handler. A forged, mis-addressed, replayed-from-another-login (nonce)
// or expired ID token ends the flow with access_denied at the client, an
// audit event with a raised risk, no session and no internals shown.
func TestOIDCBadIDTokenThroughGateway(t *testing.T) {
	for name, set := range map[string]func(*fakeoidc.OP){
		"forged signature": func(op *fakeoidc.OP) { op.ForgeSig = true },
		"wrong audience":   func(op *fakeoidc.OP) { op.WrongAud = true },
		"nonce mismatch":   func(op *fakeoidc.OP) { op.WrongNonce = true },
		"expired":          func(op *fakeoidc.OP) { op.Expired = true },
	} {
		t.Run(name, func(t *testing.T) {
			op := fakeoidc.New(t)
			g := testenv.New(t, testenv.Options{Connectors: []login.Connector{oidcConnector(t, "corp", op)}})
			op.Set(set)
			b := g.NewBrowser()
			_, toIdP := toProvider(t, g, b, "corp")
			resp := viaOP(t, b, op, toIdP)
			requireRedirectError(t, g, resp, http.StatusFound, loopbackCB, "access_denied", "xyz-state")
			requireNoInternals(t, resp)
			if b.Cookie(session.SessionCookiePlain) != "" || len(g.AuditEvents("session_created")) != 0 {
				t.Fatal("a bad ID token signed the browser in")
			}
			if e := g.RequireAudit(t, "login_failed", "reason", "upstream_rejected", 50); e.Provider != "corp" {
				t.Fatalf("audit = %+v", e)
			}
		})
	}
}

// TestOIDCProviderDownAtStart: the gateway starts while the IdP is down
// (discovery is lazy); choosing it shows a clear 503 page saying to try
// later, audited, with no stack trace and no redirect anywhere.
func TestOIDCProviderDownAtStart(t *testing.T) {
	op := fakeoidc.New(t)
	op.Set(func(op *fakeoidc.OP) { op.Down = true })
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{oidcConnector(t, "corp", op)}})
	_, resp := toProvider(t, g, g.NewBrowser(), "corp")
	testenv.RequireErrorPage(t, resp, http.StatusServiceUnavailable)
	requireNoInternals(t, resp)
	if !strings.Contains(resp.Body, "cannot be reached") {
		t.Fatalf("page does not say what happened:\n%s", resp.Body)
	}
	g.RequireAudit(t, "login_failed", "reason", "provider_unavailable", 0)
}

// TestOIDCCallbackStateRefused: a callback whose state names no pending
// login (forged, or already used) and one whose login expired end on an
// error page, never at the IdP's token endpoint, and are audited.
func TestOIDCCallbackStateRefused(t *testing.T) {
	op := fakeoidc.New(t)
	clk := testenv.NewClock(time.Now())
	g := testenv.New(t, testenv.Options{Now: clk.Now, Connectors: []login.Connector{oidcConnector(t, "corp", op)}})
	b := g.NewBrowser()

	forged := b.Get("/oauth/callback/corp?" + url.Values{"state": {"not-a-state"}, "code": {"c"}}.Encode())
	testenv.RequireErrorPage(t, forged, http.StatusBadRequest)
	requireNoInternals(t, forged)
	g.RequireAudit(t, "login_failed", "reason", "invalid_state", 40)

	_, toIdP := toProvider(t, g, b, "corp")
	clk.Advance(11 * time.Minute) // the pending authorization lives 10 minutes
	expired := viaOP(t, b, op, toIdP)
	testenv.RequireErrorPage(t, expired, http.StatusBadRequest)
	g.RequireAudit(t, "login_failed", "reason", "expired_state", 40)
	if b.Cookie(session.SessionCookiePlain) != "" {
		t.Fatal("an expired login signed the browser in")
	}
}

// notAllowedIdP authenticates everyone but admits no one (a GitHub
// provider's allowed_orgs the user is not in).
type notAllowedIdP struct{ fakeIdP }

func (n *notAllowedIdP) HandleCallback(ctx context.Context, cb string, q url.Values, v, nonce string) (login.Identity, error) {
	if _, err := n.fakeIdP.HandleCallback(ctx, cb, q, v, nonce); err != nil {
		return login.Identity{}, err
	}
	return login.Identity{}, login.ErrNotAllowed
}

// TestLoginNotAllowedIs403: a connector's ErrNotAllowed ends on a 403
// page, with an audit event, no session and no code for the client.
func TestLoginNotAllowedIs403(t *testing.T) {
	idp := &notAllowedIdP{}
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{idp}})
	b := g.NewBrowser()
	state := upstreamState(t, g, b)
	resp := b.Get("/oauth/callback/fake?" + url.Values{"state": {state}, "code": {"x"}}.Encode())
	testenv.RequireErrorPage(t, resp, http.StatusForbidden)
	requireNoInternals(t, resp)
	if !strings.Contains(resp.Body, "not allowed") {
		t.Fatalf("page does not say why:\n%s", resp.Body)
	}
	if b.Cookie(session.SessionCookiePlain) != "" || len(g.AuditEvents("oauth_flow_completed")) != 0 {
		t.Fatal("a user the provider does not admit got a session or a code")
	}
	g.RequireAudit(t, "login_failed", "reason", "not_allowed", 40)
}

// TestOIDCCallbackReplayAndCrossProvider: the OP's genuine callback URL
// works once; replayed (from the history or a log) it is refused without
// reaching the IdP again, and the same state presented at another
// provider's callback is refused too (a response cannot be moved between
// providers). Both are audited.
func TestOIDCCallbackReplayAndCrossProvider(t *testing.T) {
	opA, opB := fakeoidc.New(t), fakeoidc.New(t)
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{oidcConnector(t, "corp", opA), oidcConnector(t, "partner", opB)}})
	b := g.NewBrowser()

	_, toIdP := toProvider(t, g, b, "corp")
	cb := callbackFromOP(t, b, opA, toIdP)
	moved := strings.Replace(cb, "/oauth/callback/corp?", "/oauth/callback/partner?", 1)
	testenv.RequireErrorPage(t, b.Get(moved), http.StatusBadRequest)
	if b.Cookie(session.SessionCookiePlain) != "" {
		t.Fatal("a response moved to another provider signed the browser in")
	}
	testenv.ClientRedirect(t, b.Get(cb), http.StatusFound, loopbackCB)
	replay := b.Get(cb)
	testenv.RequireErrorPage(t, replay, http.StatusBadRequest)
	requireNoInternals(t, replay)
	refused := 0
	for _, e := range g.AuditEvents("login_failed") {
		if e.Details["reason"] == "invalid_state" && e.Risk >= 40 {
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("%d invalid_state events, want 2 (moved, replayed):\n%s", refused, g.Audit.String())
	}
}

// TestOIDCRecheckThroughRefresh (SPEC AS-6, ID-5) with the real oidc
// connector: a refresh of the mcpgate grant that is due for a re-check
// redeems the upstream refresh token (the IdP rotates it; the new tokens
// replace the stored ones), and once the IdP refuses the user's refresh
// token (disabled user: invalid_grant) the grant is revoked.
func TestOIDCRecheckThroughRefresh(t *testing.T) {
	op := fakeoidc.New(t)
	clk := testenv.NewClock(time.Now().Truncate(time.Second))
	g := testenv.New(t, testenv.Options{Now: clk.Now, Connectors: []login.Connector{oidcConnector(t, "corp", op)}})
	f, refresh := oidcGrant(t, g, g.NewBrowser(), op, "corp")
	stored := func() []byte {
		u, err := g.Store().GetUpstreamToken(context.Background(), "corp:user-1", "corp")
		if err != nil {
			t.Fatal(err)
		}
		return u.Sealed
	}
	before := stored()

	clk.Advance(20 * time.Minute) // due for a re-check
	next := g.RefreshFlow(f, refresh, nil)
	if next.Status != http.StatusOK {
		t.Fatalf("refresh with a re-check the IdP answers: %d %s", next.Status, next.Raw)
	}
	if op.RefreshCount() != 1 || string(stored()) == string(before) {
		t.Fatalf("the re-check redeemed %d upstream refresh tokens, want 1, and stores the rotated ones", op.RefreshCount())
	}

	// The IdP killed the first upstream refresh token on use: a second
	// re-check works only if the rotated one was kept.
	clk.Advance(20 * time.Minute)
	next = g.RefreshFlow(f, next.Get("refresh_token"), nil)
	if next.Status != http.StatusOK || op.RefreshCount() != 2 {
		t.Fatalf("second re-check: %d %s (%d upstream refreshes)", next.Status, next.Raw, op.RefreshCount())
	}

	op.KillRefreshTokens()
	clk.Advance(20 * time.Minute)
	testenv.RequireOAuthError(t, g.RefreshFlow(f, next.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
	if e := g.RequireAudit(t, "token_revoked", "reason", "user_gone", 0); e.User != "corp:user-1" {
		t.Fatalf("revocation audited as %+v", e)
	}
}
