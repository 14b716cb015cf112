package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/pgtest"
)

// TestAttackCSRF: cross-site request forgery on the consent and login
// forms. The forms' CSRF token is the pending request ID bound to the
// browser's __Host- flow cookie; cross-site posts are refused before the
// handler (Origin / Sec-Fetch-Site). Every variant leaves the request
// unapproved, the browser signed out and no code issued (SPEC AS-3).
func TestAttackCSRF(t *testing.T) {
	a := newAttackEnv(t, testenv.Options{TLS: true}, nil)
	g := a.g
	post := func(b *testenv.Browser, path string, form url.Values, hdr map[string]string) testenv.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := b.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return a.page(t, testenv.Response{Response: resp, Body: string(body)})
	}
	consentForm := func(id string) url.Values { return url.Values{"req": {id}, "action": {"approve"}} }
	loginForm := func(id string) url.Values {
		return url.Values{"req": {id}, "provider": {"local"}, "username": {testenv.Alice}, "password": {testenv.Password}}
	}
	crossSite := []struct {
		name string
		hdr  map[string]string
	}{
		{"foreign Origin", map[string]string{"Origin": "https://evil.example"}},
		{"null Origin", map[string]string{"Origin": "null"}},
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign Origin with Sec-Fetch-Site cross-site", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}},
		{"sibling subdomain Origin", map[string]string{"Origin": "https://evil.127.0.0.1.nip.example"}},
	}
	for _, c := range crossSite {
		t.Run("consent/"+c.name, func(t *testing.T) {
			b := g.NewBrowser()
			id := b.StartFlow(publicParams(g))
			if resp := post(b, "/oauth/consent", consentForm(id), c.hdr); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("cross-site consent POST: %d, want 403", resp.StatusCode)
			}
			requireNotApproved(t, b, id)
		})
		t.Run("login/"+c.name, func(t *testing.T) {
			b := g.NewBrowser()
			id := b.StartFlow(publicParams(g))
			b.SubmitConsent(id, "approve")
			resp := post(b, "/oauth/login", loginForm(id), c.hdr)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("cross-site login POST: %d, want 403", resp.StatusCode)
			}
			requireNoCode(t, resp)
			if b.Cookie(session.SessionCookieSecure) != "" {
				t.Fatal("a cross-site login POST signed the browser in")
			}
		})
	}
	// Same-origin posts without the right token: another browser's
	// request ID (the attacker's own flow, pushed on the victim), a
	// made-up one, none at all.
	tokens := []struct {
		name string
		id   func(attacker *testenv.Browser) string
	}{
		{"another browser's request", func(attacker *testenv.Browser) string { return attacker.StartFlow(publicParams(g)) }},
		{"made-up request", func(*testenv.Browser) string { return strings.Repeat("A", 43) }},
		{"missing request", func(*testenv.Browser) string { return "" }},
	}
	for _, c := range tokens {
		t.Run("consent/"+c.name, func(t *testing.T) {
			attacker, victim := g.NewBrowser(), g.NewBrowser()
			victim.StartFlow(publicParams(g)) // the victim has a flow cookie, just not for this request
			id := c.id(attacker)
			resp := a.page(t, victim.Post("/oauth/consent", consentForm(id)))
			testenv.RequireErrorPage(t, resp, http.StatusBadRequest)
			if c.name == "another browser's request" {
				requireNotApproved(t, attacker, id)
			}
		})
		t.Run("login/"+c.name, func(t *testing.T) {
			attacker, victim := g.NewBrowser(), g.NewBrowser()
			victim.StartFlow(publicParams(g))
			id := c.id(attacker)
			if id != "" && c.name == "another browser's request" {
				attacker.SubmitConsent(id, "approve")
			}
			resp := a.page(t, victim.Post("/oauth/login", loginForm(id)))
			testenv.RequireErrorPage(t, resp, http.StatusBadRequest)
			if victim.Cookie(session.SessionCookieSecure) != "" {
				t.Fatal("the victim's browser was signed in")
			}
		})
	}
	if n := len(g.AuditEvents("session_created")); n != 0 {
		t.Errorf("%d sessions were created by forged posts", n)
	}
}

// signedIn reports whether a browser carrying only the cookie name=value
// is signed in: a prompt=none request for the (approved) public client
// gets a code rather than login_required.
func signedIn(t *testing.T, a *attackEnv, name, value string) bool {
	t.Helper()
	b := a.g.NewBrowser()
	b.SetCookie(name, value)
	params := publicParams(a.g)
	params.Set("prompt", "none")
	resp := a.page(t, b.Get("/oauth/consent?req="+b.StartFlow(params)))
	q := testenv.ClientRedirect(t, resp, http.StatusFound, loopbackCB)
	if q.Get("code") == "" && q.Get("error") != "login_required" {
		t.Fatalf("prompt=none: neither a code nor login_required: %v", q)
	}
	return q.Get("code") != ""
}

// TestAttackSessionFixation: a session cookie value planted before login
// (by a sibling subdomain, an injected header, a shared machine) is never
// adopted: login issues a fresh ID, the planted one signs nobody in, and
// the old ID dies on re-login (SPEC SE-1).
func TestAttackSessionFixation(t *testing.T) {
	a := newAttackEnv(t, testenv.Options{TLS: true}, nil)
	g := a.g
	t.Run("planted value", func(t *testing.T) {
		planted := strings.Repeat("A", 43) // well-formed: 32 bytes, base64url
		victim := g.NewBrowser()
		victim.SetCookie(session.SessionCookieSecure, planted)
		_, rep := g.Tokens(victim, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
		a.reply(t, rep)
		after := victim.Cookie(session.SessionCookieSecure)
		if after == "" || after == planted {
			t.Fatalf("session cookie after login = %q, want a fresh value", after)
		}
		if signedIn(t, a, session.SessionCookieSecure, planted) {
			t.Fatal("the planted value signs in")
		}
		if !signedIn(t, a, session.SessionCookieSecure, after) {
			t.Fatal("the fresh session cookie does not sign in (the control failed)")
		}
	})
	t.Run("re-login rotates", func(t *testing.T) {
		b := g.NewBrowser()
		g.Tokens(b, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
		first := b.Cookie(session.SessionCookieSecure)
		params := publicParams(g)
		params.Set("prompt", "login")
		id := b.StartFlow(params)
		b.SubmitConsent(id, "approve")
		testenv.ClientRedirect(t, a.page(t, b.SubmitLogin(id, testenv.Alice, testenv.Password)), http.StatusSeeOther, loopbackCB)
		second := b.Cookie(session.SessionCookieSecure)
		if second == "" || second == first {
			t.Fatalf("session ID not rotated on re-login: %q", second)
		}
		if signedIn(t, a, session.SessionCookieSecure, first) {
			t.Fatal("the pre-login session ID still signs in")
		}
	})
}

// TestAttackCookieHostPrefix: on an https public_url the session and
// flow cookies are issued only with the __Host- guarantees (Secure,
// Path=/, no Domain: no sibling host or plain-http page can set or
// overwrite them), HttpOnly and SameSite=Lax; a copy of a valid session
// under the unprefixed name, which any subdomain or http page could
// plant, is never honoured (SPEC SE-1, HD-1).
func TestAttackCookieHostPrefix(t *testing.T) {
	a := newAttackEnv(t, testenv.Options{TLS: true}, nil)
	g := a.g
	b := g.NewBrowser()
	start := a.page(t, b.Get("/oauth/authorize?"+publicParams(g).Encode()))
	id := start.Location().Query().Get("req")
	b.SubmitConsent(id, "approve")
	login := a.page(t, b.SubmitLogin(id, testenv.Alice, testenv.Password))
	for _, c := range []struct {
		name string
		resp testenv.Response
	}{{session.FlowCookieSecure, start}, {session.SessionCookieSecure, login}} {
		t.Run("issued "+c.name, func(t *testing.T) {
			var found bool
			for _, raw := range c.resp.Header.Values("Set-Cookie") {
				ck, err := http.ParseSetCookie(raw)
				if err != nil {
					t.Fatalf("Set-Cookie %q: %v", raw, err)
				}
				if !strings.Contains(ck.Name, "mcpgate") {
					continue
				}
				if !strings.HasPrefix(ck.Name, "__Host-") {
					t.Errorf("cookie %q issued without the __Host- prefix on https", ck.Name)
				}
				if ck.Name != c.name {
					continue
				}
				found = true
				if !ck.Secure || ck.Domain != "" || ck.Path != "/" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
					t.Errorf("cookie %s lacks a guarantee: %q", ck.Name, raw)
				}
			}
			if !found {
				t.Fatalf("no %s cookie; Set-Cookie: %q", c.name, c.resp.Header.Values("Set-Cookie"))
			}
		})
	}
	value := b.Cookie(session.SessionCookieSecure)
	t.Run("unprefixed copy refused", func(t *testing.T) {
		if !signedIn(t, a, session.SessionCookieSecure, value) {
			t.Fatal("control: the real cookie does not sign in")
		}
		if signedIn(t, a, session.SessionCookiePlain, value) {
			t.Fatal("a session under the unprefixed name (settable without Secure, with Domain, any Path) signs in")
		}
	})
	t.Run("unprefixed flow cookie refused", func(t *testing.T) {
		owner := g.NewBrowser()
		id := owner.StartFlow(publicParams(g))
		thief := g.NewBrowser()
		thief.SetCookie(session.FlowCookiePlain, owner.Cookie(session.FlowCookieSecure))
		testenv.RequireErrorPage(t, a.page(t, thief.SubmitConsent(id, "approve")), http.StatusBadRequest)
		requireNotApproved(t, owner, id)
	})
}

// TestAttackPKCEDowngrade: PKCE S256 is required and binds the code to
// its verifier (SPEC AS-2, AS-4; RFC 9700 §2.1.1). A downgrade to plain,
// a missing challenge or method, and a wrong, missing or reused verifier
// all fail, and no token is issued.
func TestAttackPKCEDowngrade(t *testing.T) {
	a := newAttackEnv(t, testenv.Options{}, nil)
	g := a.g
	for _, c := range []struct {
		name string
		edit func(url.Values, testenv.PKCE)
	}{
		{"plain method", func(q url.Values, p testenv.PKCE) {
			q.Set("code_challenge_method", "plain")
			q.Set("code_challenge", p.Verifier)
		}},
		{"missing challenge", func(q url.Values, _ testenv.PKCE) { q.Del("code_challenge"); q.Del("code_challenge_method") }},
		{"missing method (plain by default)", func(q url.Values, _ testenv.PKCE) { q.Del("code_challenge_method") }},
		{"lower-case method", func(q url.Values, _ testenv.PKCE) { q.Set("code_challenge_method", "s256") }},
		{"short challenge", func(q url.Values, _ testenv.PKCE) { q.Set("code_challenge", "abc") }},
	} {
		t.Run("authorize/"+c.name, func(t *testing.T) {
			p := testenv.NewPKCE()
			q := g.AuthParams(testenv.PublicClient, loopbackCB, g.Resource(testenv.FilesPath), p)
			c.edit(q, p)
			resp := a.page(t, g.NewBrowser().Get("/oauth/authorize?"+q.Encode()))
			got := testenv.ClientRedirect(t, resp, http.StatusFound, loopbackCB)
			if got.Get("error") != "invalid_request" || got.Get("code") != "" || got.Get("state") != "xyz-state" || got.Get("iss") != g.URL {
				t.Fatalf("error redirect %v, want invalid_request with state and iss, no code", got)
			}
		})
	}
	newFlow := func(t *testing.T) testenv.Flow {
		return g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(testenv.PublicClient, g.Resource(testenv.FilesPath)), testenv.Alice, nil)
	}
	old := newFlow(t)
	if r := g.Exchange(old, nil); r.Status != http.StatusOK {
		t.Fatalf("control exchange: %d %s", r.Status, r.Raw)
	}
	for _, c := range []struct {
		name     string
		verifier func(f testenv.Flow) []string
	}{
		{"verifier mismatch", func(testenv.Flow) []string { return []string{testenv.NewPKCE().Verifier} }},
		{"verifier missing", func(testenv.Flow) []string { return nil }},
		{"challenge sent as verifier (plain)", func(f testenv.Flow) []string { return []string{f.PKCE.Challenge} }},
		{"verifier reused from another flow", func(testenv.Flow) []string { return []string{old.PKCE.Verifier} }},
		{"verifier with a trailing byte", func(f testenv.Flow) []string { return []string{f.PKCE.Verifier + "A"} }},
	} {
		t.Run("token/"+c.name, func(t *testing.T) {
			f := newFlow(t)
			r := a.reply(t, g.Exchange(f, url.Values{"code_verifier": c.verifier(f)}))
			if r.Status != http.StatusBadRequest || (r.Get("error") != "invalid_grant" && r.Get("error") != "invalid_request") {
				t.Fatalf("got %d %s, want 400 invalid_grant or invalid_request", r.Status, r.Raw)
			}
			if r.Get("access_token") != "" || r.Get("refresh_token") != "" {
				t.Fatal("a token was issued")
			}
		})
	}
}

// TestAttackRedirectURI: redirect URI manipulation (SPEC AS-2; RFC 9700
// §4.1). Only an exact match of a registered URI (a loopback port may
// vary) is honoured; every trick gets an error page and never a redirect,
// whatever else is wrong with the request.
func TestAttackRedirectURI(t *testing.T) {
	a := newAttackEnv(t, testenv.Options{}, nil)
	g := a.g
	confidential := []string{
		"https://app.example@evil.example/cb",
		"https://evil.example@app.example/cb",
		"https://app.example:@evil.example/cb",
		"https://app.example/cb/../evil",
		"https://app.example/x/../cb",
		"https://app.example/./cb",
		"https://app.example/cb/",
		"https://app.example//cb",
		"https://APP.EXAMPLE/cb",
		"https://App.Example/cb",
		"https://app.example/CB",
		"https://app.example/%63b",
		"https://app.example/cb%2F..%2Fevil",
		"https://app.example/cb%00",
		"https://app%2Eexample/cb",
		"https://app.example/cb?next=https://evil.example",
		"https://app.example/cb?",
		"https://app.example/cb#frag",
		"https://app.example/cb#",
		"https://evil.example/cb",
		"https://app.example.evil.example/cb",
		"https://evil.example/https://app.example/cb",
		"http://app.example/cb",
		"//evil.example/cb",
		"https://app.example\\@evil.example/cb",
		"https://app.example/cb\r\nLocation: https://evil.example",
		" https://app.example/cb",
		"javascript:alert(1)//https://app.example/cb",
	}
	public := []string{
		"http://127.0.0.1.evil.example/callback",
		"http://127.0.0.1@evil.example/callback",
		"http://evil.example@127.0.0.1/callback",
		"http://127.0.0.1/callback/../evil",
		"http://127.0.0.1/CALLBACK",
		"http://127.0.0.1/%63allback",
		"http://127.0.0.1/callback?x=1",
		"http://127.0.0.1/callback#x",
		"http://localhost.evil.example/callback",
		"http://127.0.0.2/callback",
		"http://0x7f.0.0.1/callback",
		"http://[::ffff:127.0.0.1]/callback",
		"https://evil.example/callback",
		"cursor://evil/callback",
	}
	check := func(t *testing.T, clientID, redirect string, edit func(url.Values)) {
		t.Helper()
		q := g.AuthParams(clientID, redirect, g.Resource(testenv.FilesPath), testenv.NewPKCE())
		if edit != nil {
			edit(q)
		}
		resp := a.page(t, g.NewBrowser().Get("/oauth/authorize?"+q.Encode()))
		testenv.RequireErrorPage(t, resp, http.StatusBadRequest)
	}
	for _, uri := range confidential {
		t.Run("confidential/"+uri, func(t *testing.T) { check(t, testenv.ConfidentialClient, uri, nil) })
	}
	for _, uri := range public {
		t.Run("public/"+uri, func(t *testing.T) { check(t, testenv.PublicClient, uri, nil) })
	}
	// An open redirect must not appear when the request is also broken in
	// a way that would normally be reported by redirect.
	for _, c := range []struct {
		name string
		edit func(url.Values)
	}{
		{"plus plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"plus unknown resource", func(q url.Values) { q.Set("resource", "https://evil.example/mcp") }},
		{"plus bad response_type", func(q url.Values) { q.Set("response_type", "token") }},
		{"plus prompt=none", func(q url.Values) { q.Set("prompt", "none") }},
		{"plus unknown client", func(q url.Values) { q.Set("client_id", "no-such-client") }},
	} {
		t.Run("open redirect "+c.name, func(t *testing.T) { check(t, testenv.PublicClient, "https://evil.example/cb", c.edit) })
	}
	t.Run("control: loopback port may vary", func(t *testing.T) {
		b := g.NewBrowser()
		loc := b.Authorize(g.AuthParams(testenv.PublicClient, "http://127.0.0.1:61234/callback", g.Resource(testenv.FilesPath), testenv.NewPKCE()), testenv.Alice)
		if loc.Host != "127.0.0.1:61234" || loc.Query().Get("code") == "" {
			t.Fatalf("exact loopback redirect refused: %s", loc)
		}
	})
	t.Run("token endpoint: redirect_uri differs from the authorization's", func(t *testing.T) {
		f := g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(testenv.PublicClient, g.Resource(testenv.FilesPath)), testenv.Alice, nil)
		r := a.reply(t, g.Exchange(f, url.Values{"redirect_uri": {"http://127.0.0.1/callback/../x"}}))
		testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	})
}

// forEachStore runs an attack whose defence is an atomic store operation
// (single-use codes, refresh rotation, revocation) on every backend: the
// race a replay exploits lives in the store. PostgreSQL is skipped with
// pgtest's message when MCPGATE_TEST_POSTGRES is unset; CI fails on it.
func forEachStore(t *testing.T, attack func(*testing.T, testenv.Options)) {
	for _, driver := range []string{"memory", "sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			o := testenv.Options{Driver: driver}
			if driver == "postgres" {
				o.DSN = pgtest.DSN(t, "mcpgate_attack_")
			}
			attack(t, o)
		})
	}
}

// TestAttackReplay: an authorization code redeemed twice fails the
// second time and revokes everything the first redemption issued (SPEC
// AS-4, AS-5a); a finished pending request (the AS's state) cannot be
// replayed through the consent or login step to mint a second code.
func TestAttackReplay(t *testing.T) { forEachStore(t, attackReplay) }

func attackReplay(t *testing.T, o testenv.Options) {
	a := newAttackEnv(t, o, nil)
	g := a.g
	res := g.Resource(testenv.FilesPath)
	t.Run("authorization code", func(t *testing.T) {
		f := g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(testenv.PublicClient, res), testenv.Alice, nil)
		first := a.reply(t, g.Exchange(f, nil))
		if first.Status != http.StatusOK {
			t.Fatalf("first redemption: %d %s", first.Status, first.Raw)
		}
		access, refresh := first.Get("access_token"), first.Get("refresh_token")
		g.RequireValid(t, access, res)
		second := a.reply(t, g.Exchange(f, nil))
		testenv.RequireOAuthError(t, second, http.StatusBadRequest, "invalid_grant")
		if second.Get("access_token") != "" {
			t.Fatal("the replay got a token")
		}
		if _, err := g.WaitRevoked(access, res, 5*time.Second); err != nil {
			t.Fatalf("the first access token after the replay: %v", err)
		}
		testenv.RequireOAuthError(t, a.reply(t, g.RefreshFlow(f, refresh, nil)), http.StatusBadRequest, "invalid_grant")
		testenv.RequireInactive(t, g.Introspect(access, testenv.ConfidentialClient, testenv.ConfidentialSecret))
	})
	t.Run("concurrent redemptions", func(t *testing.T) {
		// The race a replay would win if the consume were not atomic:
		// several redemptions of one code at once; exactly one succeeds.
		f := g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(testenv.PublicClient, res), testenv.Alice, nil)
		const n = 8
		replies := make(chan testenv.Reply, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { replies <- g.Exchange(f, nil) })
		}
		wg.Wait()
		close(replies)
		var ok []string
		for r := range replies {
			a.reply(t, r)
			switch {
			case r.Status == http.StatusOK:
				ok = append(ok, r.Get("access_token"))
			case r.Get("error") != "invalid_grant":
				t.Errorf("a racing redemption got %d %s, want 200 or invalid_grant", r.Status, r.Raw)
			}
		}
		if len(ok) != 1 {
			t.Fatalf("%d of %d concurrent redemptions of one code succeeded, want exactly 1", len(ok), n)
		}
		for _, tok := range ok { // the winner is revoked by the losers' replay
			if _, err := g.WaitRevoked(tok, res, 5*time.Second); err != nil {
				t.Fatalf("the winning access token: %v", err)
			}
		}
	})
	t.Run("authorization code by another client", func(t *testing.T) {
		f := g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(testenv.PublicClient, res), testenv.Alice, nil)
		stolen := f
		stolen.Client = testenv.NoRefreshClient
		r := a.reply(t, g.Exchange(stolen, nil))
		testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("pending request after completion", func(t *testing.T) {
		b := g.NewBrowser()
		id := b.StartFlow(publicParams(g))
		b.SubmitConsent(id, "approve")
		testenv.ClientRedirect(t, b.SubmitLogin(id, testenv.Alice, testenv.Password), http.StatusSeeOther, loopbackCB)
		for name, resp := range map[string]testenv.Response{
			"consent page": b.Get("/oauth/consent?req=" + id),
			"consent post": b.SubmitConsent(id, "approve"),
			"login page":   b.Get("/oauth/login?req=" + id),
			"login post":   b.SubmitLogin(id, testenv.Alice, testenv.Password),
		} {
			a.page(t, resp)
			requireNoCode(t, resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s replayed: %d, want 400", name, resp.StatusCode)
			}
		}
	})
}

// TestAttackRefreshReuse: a refresh token used again after rotation (a
// stolen copy) fails and revokes the whole family, the attacker's and the
// legitimate client's tokens alike, with a high-risk audit event (SPEC
// AS-6, AS-5a).
func TestAttackRefreshReuse(t *testing.T) { forEachStore(t, attackRefreshReuse) }

func attackRefreshReuse(t *testing.T, o testenv.Options) {
	a := newAttackEnv(t, o, nil)
	g := a.g
	res := g.Resource(testenv.FilesPath)
	f, r0 := g.Tokens(g.NewBrowser(), testenv.PublicClient, res, testenv.Alice)
	r1 := a.reply(t, g.RefreshFlow(f, r0.Get("refresh_token"), nil))
	if r1.Status != http.StatusOK {
		t.Fatalf("rotation: %d %s", r1.Status, r1.Raw)
	}
	r2 := a.reply(t, g.RefreshFlow(f, r1.Get("refresh_token"), nil)) // the successor is used: no grace any more
	if r2.Status != http.StatusOK {
		t.Fatalf("second rotation: %d %s", r2.Status, r2.Raw)
	}
	t.Run("old token refused", func(t *testing.T) {
		reuse := a.reply(t, g.RefreshFlow(f, r0.Get("refresh_token"), nil))
		testenv.RequireOAuthError(t, reuse, http.StatusBadRequest, "invalid_grant")
		if reuse.Get("access_token") != "" {
			t.Fatal("the reuse got a token")
		}
	})
	t.Run("family revoked", func(t *testing.T) {
		testenv.RequireOAuthError(t, a.reply(t, g.RefreshFlow(f, r2.Get("refresh_token"), nil)), http.StatusBadRequest, "invalid_grant")
		for _, tok := range []string{r0.Get("access_token"), r1.Get("access_token"), r2.Get("access_token")} {
			if _, err := g.WaitRevoked(tok, res, 5*time.Second); err != nil {
				t.Fatalf("access token of the family: %v", err)
			}
		}
	})
	t.Run("audited", func(t *testing.T) {
		if len(g.AuditEvents("refresh_token_reuse_detected")) == 0 {
			t.Fatalf("no refresh_token_reuse_detected event:\n%s", g.Audit.String())
		}
	})
	t.Run("token of another client", func(t *testing.T) {
		f2, rt := g.Tokens(g.NewBrowser(), testenv.PublicClient, res, testenv.Bob)
		other := f2
		other.Client, other.Secret = testenv.ConfidentialClient, testenv.ConfidentialSecret
		testenv.RequireOAuthError(t, a.reply(t, g.RefreshFlow(other, rt.Get("refresh_token"), nil)), http.StatusBadRequest, "invalid_grant")
	})
}
