package oauth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// Mirrors of the default rate_limits.authorize_ip burst and of the
// unexported cap in authorize.go; a change there must come with a look at
// these tests.
const (
	authorizeBurst           = 100
	maxPendingAuthorizations = 10_000
)

// behindProxy is a gateway that believes X-Forwarded-For from its own
// loopback peer, so a test can speak from any client address.
func behindProxy(t *testing.T, clock *testenv.Clock) *testenv.Gateway {
	return testenv.New(t, testenv.Options{Driver: "memory", Now: clock.Now,
		Mutate: func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} }})
}

// requireRetryAfter fails unless resp carries Retry-After in positive
// whole seconds.
func requireRetryAfter(t *testing.T, h http.Header) {
	t.Helper()
	if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s <= 0 {
		t.Fatalf("Retry-After = %q, want a positive number of seconds", h.Get("Retry-After"))
	}
}

// TestAuthorizeRateLimitedPerAddress: SPEC RL-1. Every request to the
// authorization endpoint counts, valid or not (each valid one writes a
// pending authorization, an unknown https client_id a metadata fetch);
// past the burst an address gets a 429 page with Retry-After, audited,
// and nothing is stored. An IPv6 client is one client per /64: rotating
// to another address in its /64 does not reset the limit, while the
// neighbouring /64 is untouched. A second later one more request passes.
func TestAuthorizeRateLimitedPerAddress(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	g := behindProxy(t, clock)
	attacker := browserFrom(g, "2001:db8:1:2::1")
	for i := range authorizeBurst {
		if resp := attacker.Get("/oauth/authorize"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("request %d within the burst: %d, want the 400 page for a missing client_id", i+1, resp.StatusCode)
		}
	}
	rotated := browserFrom(g, "2001:db8:1:2:ffff:ffff:ffff:ffff")
	resp := rotated.Get("/oauth/authorize?" + publicParams(g, testenv.NewPKCE()).Encode())
	testenv.RequireErrorPage(t, resp, http.StatusTooManyRequests)
	requireRetryAfter(t, resp.Header)
	if n, _ := g.Store().CountAuthRequests(t.Context(), clock.Now()); n != 0 {
		t.Fatalf("a refused authorization stored %d pending requests", n)
	}
	e := g.RequireAudit(t, "rate_limit_exceeded", "endpoint", "authorize", 40)
	if e.Details["limit"] != "authorize_ip" || e.Details["key"] != "ip" {
		t.Fatalf("rate_limit_exceeded details %v, want limit authorize_ip, key ip", e.Details)
	}

	browserFrom(g, "2001:db8:1:3::1").StartFlow(publicParams(g, testenv.NewPKCE()))
	browserFrom(g, "198.51.100.7").StartFlow(publicParams(g, testenv.NewPKCE()))

	clock.Advance(time.Second)
	attacker.StartFlow(publicParams(g, testenv.NewPKCE()))
	testenv.RequireErrorPage(t, attacker.Get("/oauth/authorize"), http.StatusTooManyRequests)
}

// TestRegisterRateLimitKeysIPv6By64: the registration limit, too, counts
// an IPv6 client once per /64, or rotating addresses would register
// without limit (SPEC AS-7).
func TestRegisterRateLimitKeysIPv6By64(t *testing.T) {
	g := behindProxy(t, testenv.NewClock(time.Now()))
	body := `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","client_name":"x"}`
	register := func(addr string) testenv.Reply {
		return g.Call("/oauth/register", "application/json", body, func(r *http.Request) {
			r.Header.Set("X-Forwarded-For", addr)
		})
	}
	for i := range 10 {
		if r := register(fmt.Sprintf("2001:db8:5:6::%x", i+1)); r.Status != http.StatusCreated {
			t.Fatalf("registration %d: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := register("2001:db8:5:6:abcd::1")
	testenv.RequireOAuthError(t, r, http.StatusTooManyRequests, "too_many_requests")
	requireRetryAfter(t, r.Header)
	if r := register("2001:db8:5:7::1"); r.Status != http.StatusCreated {
		t.Fatalf("the neighbouring /64 was limited too: %d %s", r.Status, r.Raw)
	}
}

// TestAuthorizePendingCap: the store holds at most maxPendingAuthorizations
// unexpired pending authorizations. The one that reaches the cap is
// counted at once (no recount needed), and the next is refused with a
// 503 page, audited, storing nothing; a second later a fresh count still
// refuses. A flow already started carries on, and once the old ones
// expire new flows start again.
func TestAuthorizePendingCap(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	g := testenv.New(t, testenv.Options{Driver: "memory", Now: clock.Now})
	for i := range maxPendingAuthorizations - 1 {
		err := g.Store().CreateAuthRequest(t.Context(), storage.AuthRequest{
			ID: fmt.Sprintf("filler-%d", i), ClientID: testenv.PublicClient,
			CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(10 * time.Minute),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	b := g.NewBrowser()
	started := b.StartFlow(publicParams(g, testenv.NewPKCE())) // the last one under the cap
	requireRefused := func() {
		t.Helper()
		resp := g.NewBrowser().Get("/oauth/authorize?" + publicParams(g, testenv.NewPKCE()).Encode())
		testenv.RequireErrorPage(t, resp, http.StatusServiceUnavailable)
		if !strings.Contains(resp.Body, "temporarily_unavailable") {
			t.Fatalf("503 page does not name temporarily_unavailable:\n%s", resp.Body)
		}
		if n, _ := g.Store().CountAuthRequests(t.Context(), clock.Now()); n != maxPendingAuthorizations {
			t.Fatalf("%d pending after a refusal, want %d", n, maxPendingAuthorizations)
		}
	}
	requireRefused()
	clock.Advance(2 * time.Second) // past the recount interval
	requireRefused()
	g.RequireAudit(t, "rate_limit_exceeded", "limit", "pending_authorizations", 40)
	if loc := b.SubmitConsent(started, "approve").Location(); loc == nil || loc.Path != "/oauth/login" {
		t.Fatalf("a flow started before the cap was reached did not carry on: %v", loc)
	}

	clock.Advance(10 * time.Minute)
	g.NewBrowser().StartFlow(publicParams(g, testenv.NewPKCE()))
}

// TestPageFormsBodyLimited: SPEC HD-2. Every page form is capped at 16
// KiB before it is parsed (net/http would read 10 MB): a form declared
// larger gets a 413 page and is not acted on.
func TestPageFormsBodyLimited(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory"})
	b := g.NewBrowser()
	g.Login(b, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice) // a session to log out of
	id := b.StartFlow(publicParams(g, testenv.NewPKCE()))
	pad := strings.Repeat("a", 17<<10)
	forms := map[string]url.Values{
		"/oauth/authorize": publicParams(g, testenv.NewPKCE()),
		"/oauth/consent":   {"req": {id}, "action": {"approve"}},
		"/oauth/login":     {"req": {id}, "provider": {"local"}, "username": {testenv.Alice}, "password": {testenv.Password}},
		"/oauth/logout":    {},
	}
	for path, form := range forms {
		form.Set("pad", pad)
		testenv.RequireErrorPage(t, b.Post(path, form), http.StatusRequestEntityTooLarge)
	}
	if b.Cookie(session.SessionCookiePlain) == "" {
		t.Fatal("an oversized logout form signed the browser out")
	}
	if len(g.AuditEvents("login_failed")) != 0 {
		t.Fatal("an oversized login form was acted on")
	}
	req, _ := g.Store().GetAuthRequest(t.Context(), id)
	if req.ConsentGranted {
		t.Fatal("an oversized consent form was acted on")
	}
}

// TestPageFormBodyLimitedWithoutLength: a body sent without a length
// (chunked) is cut off at the cap too, so the handler cannot parse it and
// shows its error page instead of reading on.
func TestPageFormBodyLimitedWithoutLength(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory"})
	b := g.NewBrowser()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	form := url.Values{"req": {id}, "provider": {"local"}, "password": {"x"}, "username": {strings.Repeat("u", 17<<10)}}
	body := io.MultiReader(strings.NewReader(form.Encode())) // hides the length: sent chunked
	req, _ := http.NewRequest(http.MethodPost, g.URL+"/oauth/login", body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", g.URL)
	if req.ContentLength != 0 {
		t.Fatalf("request has Content-Length %d; the test needs a chunked body", req.ContentLength)
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	testenv.RequireErrorPage(t, testenv.Response{Response: resp}, http.StatusBadRequest)
	if len(g.AuditEvents("login_failed")) != 0 {
		t.Fatal("the oversized chunked login form was acted on")
	}
}

// TestLoginFailedAuditUsernameBounded: the audit log records a failed
// login's username only when it looks like one (at most 64 bytes of
// printable text). Anything else (a pasted secret, a payload, a
// multi-megabyte flood) is recorded as username_truncated and a short
// SHA-256 prefix, never verbatim, on both failure paths.
func TestLoginFailedAuditUsernameBounded(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory"})
	b := g.NewBrowser()
	id := approvedFlow(t, b, publicParams(g, testenv.NewPKCE()))
	plain := strings.Repeat("p", 64)
	forged := "mallory\n{\"type\":\"forged\"}"
	long := strings.Repeat("L", 65)
	// Five failures lock this address; the sixth attempt is locked_out.
	for _, u := range []string{plain, forged, long, long, long, long} {
		b.SubmitLogin(id, u, "wrong")
	}
	hash := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:8]) }
	want := []struct {
		reason, username, sha string
	}{
		{"bad_credentials", plain, ""},
		{"bad_credentials", "", hash(forged)},
		{"bad_credentials", "", hash(long)},
		{"bad_credentials", "", hash(long)},
		{"bad_credentials", "", hash(long)},
		{"locked_out", "", hash(long)},
	}
	got := g.AuditEvents("login_failed")
	if len(got) != len(want) {
		t.Fatalf("%d login_failed events, want %d:\n%s", len(got), len(want), g.Audit.String())
	}
	for i, w := range want {
		d := got[i].Details
		if d["reason"] != w.reason {
			t.Errorf("event %d: reason %v, want %s", i, d["reason"], w.reason)
		}
		if w.sha == "" {
			if d["username"] != w.username || d["username_truncated"] != nil {
				t.Errorf("event %d: details %v, want username %q as typed", i, d, w.username)
			}
			continue
		}
		if _, ok := d["username"]; ok || d["username_truncated"] != true || d["username_sha256"] != w.sha {
			t.Errorf("event %d: details %v, want username_truncated and username_sha256 %s", i, d, w.sha)
		}
	}
	if log := g.Audit.String(); strings.Contains(log, long) || strings.Contains(log, "forged") {
		t.Fatalf("an implausible username reached the audit log verbatim:\n%s", log)
	}
}
