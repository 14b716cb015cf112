package oauth_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// End-to-end tests of the refresh_token grant (SPEC AS-4, AS-6; RFC 6749
// §6, RFC 9700 §4.14.2).

// pastGrace is one step past the default reuse grace window (10 s).
const pastGrace = 11 * time.Second

// SPEC AS-6: every use rotates; the old token dies once the grace window
// has passed.
func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, first := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Alice)
	rt1 := first.Get("refresh_token")

	r := g.RefreshFlow(f, rt1, nil)
	if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("refresh: %d %v %s", r.Status, r.Header, r.Raw)
	}
	rt2 := r.Get("refresh_token")
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("refresh token not rotated: %q then %q", rt1, rt2)
	}
	c := g.RequireValid(t, r.Get("access_token"), files)
	if sid := testenv.JWTPayload(t, first.Get("access_token"))["sid"]; c.SID != sid {
		t.Errorf("refreshed token's sid %s, want the family's %v", c.SID, sid)
	}
	clock.Advance(pastGrace)
	testenv.RequireOAuthError(t, g.RefreshFlow(f, rt1, nil), http.StatusBadRequest, "invalid_grant")
}

// SPEC AS-6, RFC 9700 §4.14.2: a refresh token used again after the grace
// window means two parties hold it. The whole family dies, access tokens
// included (AS-5a), and a high-risk event is raised.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, first := g.Tokens(g.NewBrowser(), testenv.ConfidentialClient, files, testenv.Alice)
	at1, rt1 := first.Get("access_token"), first.Get("refresh_token")
	second := g.RefreshFlow(f, rt1, nil)
	at2, rt2 := second.Get("access_token"), second.Get("refresh_token")
	if r := g.Introspect(at2, f.Client, f.Secret); r.JSON["active"] != true {
		t.Fatalf("before the reuse, introspection says %s", r.Raw)
	}

	clock.Advance(pastGrace)
	testenv.RequireOAuthError(t, g.RefreshFlow(f, rt1, nil), http.StatusBadRequest, "invalid_grant")

	testenv.RequireOAuthError(t, g.RefreshFlow(f, rt2, nil), http.StatusBadRequest, "invalid_grant")
	for _, at := range []string{at1, at2} {
		g.RequireRevoked(t, at, files)
		testenv.RequireInactive(t, g.Introspect(at, f.Client, f.Secret))
	}
	testenv.RequireInactive(t, g.Introspect(rt2, f.Client, f.Secret))
	sid, _ := testenv.JWTPayload(t, at1)["sid"].(string)
	g.RequireAudit(t, "refresh_token_reuse_detected", "family", sid, 80)
}

// SPEC AS-6: inside the grace window the same client retrying a lost
// response gets the same successor, and only while that successor is
// unused; after that a retry is a reuse.
func TestRefreshGraceWindow(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, first := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Alice)
	rt1 := first.Get("refresh_token")
	rt2 := g.RefreshFlow(f, rt1, nil).Get("refresh_token")

	clock.Advance(5 * time.Second)
	// A retry is still a refresh: it cannot widen the grant either.
	testenv.RequireOAuthError(t, g.RefreshFlow(f, rt1, url.Values{"scope": {"admin:all"}}), http.StatusBadRequest, "invalid_scope")
	retry := g.RefreshFlow(f, rt1, nil)
	if retry.Status != http.StatusOK || retry.Get("refresh_token") != rt2 {
		t.Fatalf("retry inside the grace window: %d %s; want 200 with the successor %s", retry.Status, retry.Raw, rt2)
	}
	g.RequireValid(t, retry.Get("access_token"), files)

	third := g.RefreshFlow(f, rt2, nil)
	if third.Status != http.StatusOK {
		t.Fatalf("the successor no longer works after a grace retry: %d %s", third.Status, third.Raw)
	}
	// rt2 is used now: rt1 is a reuse even inside its window.
	clock.Advance(time.Second)
	testenv.RequireOAuthError(t, g.RefreshFlow(f, rt1, nil), http.StatusBadRequest, "invalid_grant")
	testenv.RequireOAuthError(t, g.RefreshFlow(f, third.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
	g.RequireRevoked(t, third.Get("access_token"), files)
}

// SPEC AS-4, RFC 8707 §2, RFC 6749 §6: a refresh can never move a grant to
// another upstream or widen it, may narrow it, and a refused refresh does
// not use the token up (a buggy client keeps its grant). The clock passes
// the grace window after each refusal, so a refusal that had rotated the
// token would make the next use a reuse.
func TestRefreshResourceAndScope(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f := g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(testenv.PublicClient, files), testenv.Alice, url.Values{"scope": {"files:write"}})
	first := g.Exchange(f, nil)
	if first.Get("scope") != "files:write" {
		t.Fatalf("exchange: %d %s, want scope files:write", first.Status, first.Raw)
	}
	rt := first.Get("refresh_token")
	refused := []struct {
		extra url.Values
		code  string
	}{
		{url.Values{"resource": {g.Resource(testenv.AdminPath)}}, "invalid_target"},
		{url.Values{"scope": {"files:write admin:all"}}, "invalid_scope"},
		{url.Values{"scope": {"offline_access"}}, "invalid_scope"},
	}
	for _, tc := range refused {
		testenv.RequireOAuthError(t, g.RefreshFlow(f, rt, tc.extra), http.StatusBadRequest, tc.code)
		clock.Advance(pastGrace)
	}

	spelled := "HTTP://" + strings.TrimPrefix(files, "http://") + "/"
	narrow := g.RefreshFlow(f, rt, url.Values{"scope": {"files:read"}, "resource": {spelled}})
	if narrow.Status != http.StatusOK {
		t.Fatalf("narrowing refresh after the refusals: %d %s", narrow.Status, narrow.Raw)
	}
	c := g.RequireValid(t, narrow.Get("access_token"), files)
	if c.Scope != "files:read" || narrow.Get("scope") != "files:read" {
		t.Errorf("narrowed refresh: token scope %q, response scope %q; want files:read", c.Scope, narrow.Get("scope"))
	}
	// RFC 6749 §6: narrowing one access token leaves the grant as it was.
	again := g.RefreshFlow(f, narrow.Get("refresh_token"), nil)
	if again.Get("scope") != "files:write" {
		t.Errorf("refresh after a narrowed one: %d %s; want scope files:write", again.Status, again.Raw)
	}
}

// RFC 6749 §6: a refresh token is bound to its client. Another client is
// refused without consuming it, inside the grace window or not.
func TestRefreshByAnotherClient(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files := g.Resource(testenv.FilesPath)
	f, first := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Alice)
	thief := g.NewFlow(testenv.ConfidentialClient, files)
	rt1 := first.Get("refresh_token")

	testenv.RequireOAuthError(t, g.RefreshFlow(thief, rt1, nil), http.StatusBadRequest, "invalid_grant")
	clock.Advance(pastGrace)
	second := g.RefreshFlow(f, rt1, nil)
	if second.Status != http.StatusOK {
		t.Fatalf("owner's refresh after another client's attempt: %d %s", second.Status, second.Raw)
	}
	// Inside rt1's grace window, the thief does not get the successor.
	testenv.RequireOAuthError(t, g.RefreshFlow(thief, rt1, nil), http.StatusBadRequest, "invalid_grant")
	if r := g.RefreshFlow(f, second.Get("refresh_token"), nil); r.Status != http.StatusOK {
		t.Fatalf("family damaged by another client's attempt: %d %s", r.Status, r.Raw)
	}
}

// SPEC AS-6: the idle timeout counts from the last use, the absolute
// lifetime from the code exchange; refreshing does not extend the latter.
func TestRefreshLifetimes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		ttl, idle time.Duration
		gaps      []time.Duration // between refreshes; the last one fails
	}{
		// 50+50 minutes is past the idle timeout counted from the start,
		// so the first two refreshes prove it is counted from the last use.
		{"idle timeout", 0, time.Hour, []time.Duration{50 * time.Minute, 50 * time.Minute, 61 * time.Minute}},
		{"absolute lifetime", 2 * time.Hour, time.Hour, []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, clock := tokenGateway(t, &testenv.Options{Mutate: func(c *config.Config) {
				c.Signing.RefreshIdleTimeout = config.Duration(tc.idle)
				if tc.ttl > 0 {
					c.Signing.RefreshTokenTTL = config.Duration(tc.ttl)
				}
			}})
			f, r := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
			last := len(tc.gaps) - 1
			for i, gap := range tc.gaps {
				clock.Advance(gap)
				r = g.RefreshFlow(f, r.Get("refresh_token"), nil)
				if i < last && r.Status != http.StatusOK {
					t.Fatalf("refresh %d: %d %s", i+1, r.Status, r.Raw)
				}
			}
			testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
		})
	}
}

// SPEC AS-6: a refresh re-checks the user with the provider at least every
// 15 minutes. A present user is re-checked and kept; a deleted user loses
// the family, access tokens included; changed groups narrow the grant, and
// a grant left with no scope ends (as a code with no grantable scope is
// refused, AS-9). Local users change only with the configuration, so the
// second half restarts the gateway on the same store without alice and
// with bob out of admins.
func TestRefreshRechecksUser(t *testing.T) {
	t.Parallel()
	g, clock := tokenGateway(t, nil)
	files, admin := g.Resource(testenv.FilesPath), g.Resource(testenv.AdminPath)
	bob := g.NewBrowser()
	alice, ra := g.Tokens(g.NewBrowser(), testenv.PublicClient, files, testenv.Alice)
	mixed := g.AuthorizeFlow(bob, g.NewFlow(testenv.PublicClient, admin), testenv.Bob, url.Values{"scope": {"files:read admin:all"}})
	onlyAdmin, rw := g.Tokens(bob, testenv.PublicClient, admin, testenv.Bob)
	rm := g.Exchange(mixed, nil)
	sid := func(r testenv.Reply) string {
		s, _ := testenv.JWTPayload(t, r.Get("access_token"))["sid"].(string)
		return s
	}
	flows := []*heldGrant{{alice, ra}, {mixed, rm}, {onlyAdmin, rw}}
	refreshAll := func() {
		t.Helper()
		for _, fl := range flows {
			if fl.r = g.RefreshFlow(fl.f, fl.r.Get("refresh_token"), nil); fl.r.Status != http.StatusOK {
				t.Fatalf("refresh: %d %s", fl.r.Status, fl.r.Raw)
			}
		}
	}

	clock.Advance(16 * time.Minute)
	refreshAll()
	if fam, err := g.Store().GetRefreshFamily(t.Context(), sid(ra)); err != nil || !fam.UserCheckedAt.Equal(clock.Now()) {
		t.Fatalf("user not re-checked after 16 min: UserCheckedAt %v, now %v (%v)", fam.UserCheckedAt, clock.Now(), err)
	}
	// Not due yet: these mint access tokens that outlive the restart.
	clock.Advance(9 * time.Minute)
	refreshAll()

	g.Close()
	idp := &g.Config.IdentityProviders[0]
	idp.Users = slices.DeleteFunc(idp.Users, func(u config.LocalUser) bool { return u.Username == testenv.Alice })
	idp.Users[0].Groups = []string{"staff"}
	g = g.Restart(t, testenv.Options{Now: clock.Now})
	clock.Advance(7 * time.Minute)

	for _, fl := range []*heldGrant{flows[0], flows[2]} {
		testenv.RequireOAuthError(t, g.RefreshFlow(fl.f, fl.r.Get("refresh_token"), nil), http.StatusBadRequest, "invalid_grant")
		if fam, err := g.Store().GetRefreshFamily(t.Context(), sid(fl.r)); err != nil || !fam.Revoked() {
			t.Errorf("family %s after the re-check failed: %+v, %v; want revoked", sid(fl.r), fam, err)
		}
		g.RequireRevoked(t, fl.r.Get("access_token"), fl.f.Resource)
	}
	g.RequireAudit(t, "token_revoked", "reason", "user_gone", 0)
	g.RequireAudit(t, "token_revoked", "reason", "scopes_withdrawn", 0)

	narrowed := g.RefreshFlow(mixed, flows[1].r.Get("refresh_token"), nil)
	if narrowed.Status != http.StatusOK {
		t.Fatalf("refresh of bob's files:read grant: %d %s", narrowed.Status, narrowed.Raw)
	}
	if c := g.RequireValid(t, narrowed.Get("access_token"), admin); c.Scope != "files:read" || c.Groups != nil {
		t.Errorf("bob left admins but his refreshed token has scope %q, groups %v", c.Scope, c.Groups)
	}
}

// heldGrant is a flow and the last token response a client got for it.
type heldGrant struct {
	f testenv.Flow
	r testenv.Reply
}
