package oauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/server"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// revocationBound is SPEC AS-5a's bound: a revocation reaches every
// instance within 5 s.
const revocationBound = 5 * time.Second

// TestKillSwitch runs `mcpgate sessions revoke --user` (the CLI path,
// server.OpenAdmin) against a running gateway's store, from outside it as
// an operator would (SPEC AS-5a, OP-3). The gateway is told nothing: it
// must learn of the revocation from the store within its poll. Then
// everything alice held is dead (access and refresh tokens, browser
// session, consents), bob is untouched, and alice can sign in again, her
// new tokens in a later second than the epoch working.
func TestKillSwitch(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	b := g.NewBrowser()
	conf, rc := g.Tokens(b, testenv.ConfidentialClient, files, testenv.Alice)
	pub, rp := g.Tokens(b, testenv.PublicClient, files, testenv.Alice)
	// No refresh family backs this one: only the user's epoch can kill it.
	_, rn := g.Tokens(b, testenv.NoRefreshClient, files, testenv.Alice)
	_, rbob := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Bob)

	res := killSwitch(t, g, clock, "local:alice")
	if res.Families != 2 || res.Consents != 3 || res.BrowserSessions != 1 {
		t.Errorf("kill switch removed %+v; want 2 families, 3 consents, 1 browser session", res)
	}

	took, err := g.WaitRevoked(rc.Get("access_token"), files, revocationBound)
	if err != nil {
		t.Fatalf("after %v: %v", took, err)
	}
	t.Logf("the running gateway rejected alice's access token %v after the kill switch", took)
	g.RequireRevoked(t, rp.Get("access_token"), files)
	g.RequireRevoked(t, rn.Get("access_token"), files)
	testenv.RequireInactive(t, g.Introspect(rc.Get("access_token"), conf.Client, conf.Secret))
	testenv.RequireInactive(t, g.Introspect(rc.Get("refresh_token"), conf.Client, conf.Secret))
	testenv.RequireOAuthError(t, g.RefreshFlow(conf, rc.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
	testenv.RequireOAuthError(t, g.RefreshFlow(pub, rp.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
	g.RequireValid(t, rbob.Get("access_token"), files)

	// The browser session is gone: the next authorization shows the
	// consent page, and approving it leads to the login form.
	req := b.StartFlow(g.AuthParams(pub.Client, pub.Redirect, files, testenv.NewPKCE()))
	if page := b.Get("/oauth/consent?req=" + req); page.StatusCode != http.StatusOK || page.Location() != nil {
		t.Fatalf("consent step after the kill switch: %d %v", page.StatusCode, page.Location())
	}
	if next := b.SubmitConsent(req, "approve").Location(); next == nil || next.Path != "/oauth/login" {
		t.Fatalf("after approving, went to %v; want the login form (the session must be gone)", next)
	}

	clock.Advance(time.Second)
	_, fresh := g.Tokens(b, testenv.PublicClient, files, testenv.Alice)
	g.RequireValid(t, fresh.Get("access_token"), files)
	if r := g.RefreshFlow(pub, fresh.Get("refresh_token"), nil); r.Status != http.StatusOK {
		t.Fatalf("refresh of a grant made after the kill switch: %d %s", r.Status, r.Raw)
	}
	// Consents are gone too: now signed in again, alice is still asked
	// about test-conf, which she had approved before the kill switch.
	req = b.StartFlow(g.AuthParams(conf.Client, conf.Redirect, files, testenv.NewPKCE()))
	if page := b.Get("/oauth/consent?req=" + req); page.StatusCode != http.StatusOK || page.Location() != nil {
		t.Fatalf("consent for test-conf after the kill switch was remembered: %d %v", page.StatusCode, page.Location())
	}
}

// killSwitch runs the CLI's kill switch against g's store and checks the
// operator action was audited.
func killSwitch(t *testing.T, g *testenv.Gateway, clock *testenv.Clock, subject string) server.KillResult {
	t.Helper()
	var audit testenv.Buffer
	opts := server.Options{LogOutput: io.Discard, AuditStdout: &audit}
	if clock != nil {
		opts.Now = clock.Now
	}
	admin, err := server.OpenAdmin(t.Context(), g.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	res, err := admin.RevokeUser(t.Context(), subject)
	if err != nil {
		t.Fatalf("kill switch: %v", err)
	}
	var e testenv.AuditEvent
	if err := json.Unmarshal([]byte(strings.TrimSpace(audit.String())), &e); err != nil || e.Type != "admin_action" || e.User != subject {
		t.Errorf("kill switch audit: %q (%v); want one admin_action about %s", audit.String(), err, subject)
	}
	if consents, err := g.Store().ListConsents(t.Context(), storage.ConsentFilter{Subject: subject}); err != nil || len(consents) != 0 {
		t.Errorf("consents of %s after the kill switch: %v, %v", subject, consents, err)
	}
	return res
}
