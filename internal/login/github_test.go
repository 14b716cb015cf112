package login

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
	"github.com/mcpgate/mcpgate/internal/testenv/fakegithub"
)

const ghCallback = "https://mcp.example.com/oauth/callback/gh"

// The fake's users. Alice has three orgs and three teams and two
// addresses, so every list spans two pages (page size 2).
var (
	ghAlice = fakegithub.User{ID: 101, Login: "alice", Name: "Alice A.",
		Emails: []fakegithub.Email{{Email: "alice@old.example", Verified: true}, {Email: "x@example.org"}, {Email: "alice@example.com", Primary: true, Verified: true}},
		Orgs:   []string{"Acme", "other1", "other2"},
		Teams:  []string{"Acme/platform", "acme/sre", "other1/x"}}
	ghBob = fakegithub.User{ID: 102, Login: "bob",
		Emails: []fakegithub.Email{{Email: "bob@example.com", Primary: true}, {Email: "bob@acme.example", Verified: true}},
		Orgs:   []string{"other"}}
	ghCarol = fakegithub.User{ID: 103, Login: "carol", Teams: []string{"acme/platform"}}
	ghDave  = fakegithub.User{ID: 104, Login: "dave", Orgs: []string{"acme"}, Teams: []string{"acme/design"}}
)

func newGitHubFake(t *testing.T, mutate func(*config.IdentityProvider)) (*GitHub, *fakegithub.Server) {
	t.Helper()
	f := fakegithub.New(t)
	for _, u := range []fakegithub.User{ghAlice, ghBob, ghCarol, ghDave} {
		f.SetUser(u)
	}
	f.LoginAs(ghAlice.ID)
	cfg := config.IdentityProvider{ID: "gh", Type: "github", ClientID: fakegithub.ClientID,
		ClientSecret: fakegithub.ClientSecret, APIURL: f.APIURL(), WebURL: f.WebURL()}
	if mutate != nil {
		mutate(&cfg)
	}
	g, err := NewGitHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g, f
}

func pkcePair(t *testing.T) (verifier, challenge string) {
	verifier = strings.Repeat("v", 20) + t.Name()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// ghAuthorize runs the browser's part and returns the callback query and
// the verifier.
func ghAuthorize(t *testing.T, g *GitHub, f *fakegithub.Server) (url.Values, string) {
	t.Helper()
	verifier, challenge := pkcePair(t)
	u, err := g.LoginURL(ghCallback, "state-1", challenge, "ignored-nonce")
	if err != nil {
		t.Fatal(err)
	}
	q := f.Authorize(t, u)
	if q.Get("state") != "state-1" {
		t.Fatalf("state came back as %q", q.Get("state"))
	}
	return q, verifier
}

func ghLogin(t *testing.T, g *GitHub, f *fakegithub.Server, user int64) (Identity, error) {
	t.Helper()
	f.LoginAs(user)
	q, verifier := ghAuthorize(t, g, f)
	return g.HandleCallback(t.Context(), ghCallback, q, verifier, "")
}

func TestGitHubLoginURL(t *testing.T) {
	g, f := newGitHubFake(t, nil)
	u, err := g.LoginURL(ghCallback, "st", "chal", "")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := url.Parse(u)
	q := p.Query()
	if !strings.HasPrefix(u, f.WebURL()+"/login/oauth/authorize?") || q.Get("state") != "st" ||
		q.Get("code_challenge") != "chal" || q.Get("code_challenge_method") != "S256" ||
		q.Get("redirect_uri") != ghCallback || q.Get("client_id") != fakegithub.ClientID ||
		q.Get("scope") != "read:user user:email read:org" || q.Has("client_secret") {
		t.Errorf("LoginURL = %s", u)
	}
	for _, args := range [][3]string{{"", "st", "c"}, {ghCallback, "", "c"}, {ghCallback, "st", ""}} {
		if _, err := g.LoginURL(args[0], args[1], args[2], ""); err == nil {
			t.Errorf("LoginURL%q accepted", args)
		}
	}
}

// TestGitHubLoginIdentity: subject is the numeric ID, the email the
// verified primary one, groups are every org and team across all pages,
// lower-cased, and ConnectorData holds the access token.
func TestGitHubLoginIdentity(t *testing.T) {
	g, f := newGitHubFake(t, nil)
	id, err := ghLogin(t, g, f, ghAlice.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acme", "acme/platform", "acme/sre", "other1", "other1/x", "other2"}
	if id.Subject != "101" || id.Username != "alice" || id.Name != "Alice A." ||
		id.Email != "alice@example.com" || !id.EmailVerified || !slices.Equal(id.Groups, want) {
		t.Errorf("identity = %+v; want groups %v", id, want)
	}
	for _, path := range []string{"/user/emails", "/user/orgs", "/user/teams"} {
		if !slices.ContainsFunc(f.Requests(), func(r string) bool {
			return strings.HasPrefix(r, "GET "+fakegithub.APIPrefix+path+"?page=2&")
		}) {
			t.Errorf("page 2 of %s never fetched: %v", path, f.Requests())
		}
	}
	tok, exp, err := g.AccessToken(id.ConnectorData)
	if err != nil || !strings.HasPrefix(tok, "gho_") || !exp.IsZero() {
		t.Errorf("AccessToken = %q, %v, %v", tok, exp, err)
	}
}

// TestGitHubAllowedOrgsTeams: a user in any allowed org or team is
// admitted, anyone else is refused with ErrNotAllowed; empty lists admit
// everyone. Names compare case-insensitively, as GitHub's do.
func TestGitHubAllowedOrgsTeams(t *testing.T) {
	users := []fakegithub.User{ghAlice, ghBob, ghCarol, ghDave}
	for _, tc := range []struct {
		name        string
		orgs, teams []string
		alice, bob  bool
		carol, dave bool
	}{
		{name: "no restriction", alice: true, bob: true, carol: true, dave: true},
		{name: "org acme", orgs: []string{"acme"}, alice: true, carol: true, dave: true},
		{name: "org ACME upper", orgs: []string{"ACME"}, alice: true, carol: true, dave: true},
		{name: "team acme/platform", teams: []string{"acme/platform"}, alice: true, carol: true},
		{name: "org other or team", orgs: []string{"other"}, teams: []string{"ACME/Platform"}, alice: true, bob: true, carol: true},
		{name: "team other1/x", teams: []string{"other1/x"}, alice: true},
		{name: "unknown org", orgs: []string{"nobody"}},
		// A team slug equal to an org name must not admit org members.
		{name: "team acme/acme", teams: []string{"acme/acme"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, f := newGitHubFake(t, func(p *config.IdentityProvider) {
				p.AllowedOrgs, p.AllowedTeams = tc.orgs, tc.teams
			})
			for i, want := range []bool{tc.alice, tc.bob, tc.carol, tc.dave} {
				id, err := ghLogin(t, g, f, users[i].ID)
				switch {
				case want && err != nil:
					t.Errorf("%s refused: %v", users[i].Login, err)
				case !want && !errors.Is(err, ErrNotAllowed):
					t.Errorf("%s: err = %v, want ErrNotAllowed", users[i].Login, err)
				case !want && (id.Subject != "" || id.ConnectorData != nil):
					t.Errorf("%s refused but an identity came back: %+v", users[i].Login, id)
				}
			}
		})
	}
}

// TestGitHubEmailTrust: only a primary address GitHub has verified is
// reported; an unverified primary or a verified secondary address (which
// anyone can add to their account) is not.
func TestGitHubEmailTrust(t *testing.T) {
	for _, tc := range []struct {
		name   string
		emails []fakegithub.Email
		want   string
	}{
		{"primary verified", []fakegithub.Email{{Email: "a@x.example", Primary: true, Verified: true}}, "a@x.example"},
		{"primary unverified", []fakegithub.Email{{Email: "ceo@victim.example", Primary: true}}, ""},
		{"secondary verified only", []fakegithub.Email{{Email: "ceo@victim.example", Verified: true}, {Email: "me@x.example", Primary: true}}, ""},
		{"none", nil, ""},
		{"third page", []fakegithub.Email{{Email: "1@x"}, {Email: "2@x"}, {Email: "3@x"}, {Email: "4@x"}, {Email: "p@x.example", Primary: true, Verified: true}}, "p@x.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, f := newGitHubFake(t, nil)
			f.SetUser(fakegithub.User{ID: 7, Login: "e", Emails: tc.emails})
			id, err := ghLogin(t, g, f, 7)
			if err != nil || id.Email != tc.want || id.EmailVerified != (tc.want != "") {
				t.Errorf("email = %q verified %v, err %v; want %q", id.Email, id.EmailVerified, err, tc.want)
			}
		})
	}
}

// TestGitHubScopeNotGranted: lists the token may not read count as empty,
// which only takes away: no email, fewer groups, refused by allowed_orgs.
func TestGitHubScopeNotGranted(t *testing.T) {
	g, f := newGitHubFake(t, nil)
	f.Forbid("/user/emails", "/user/teams")
	id, err := ghLogin(t, g, f, ghAlice.ID)
	if err != nil || id.Email != "" || id.EmailVerified || !slices.Equal(id.Groups, []string{"acme", "other1", "other2"}) {
		t.Errorf("identity = %+v, %v", id, err)
	}
	g, f = newGitHubFake(t, func(p *config.IdentityProvider) { p.AllowedOrgs = []string{"acme"} })
	f.Forbid("/user/orgs", "/user/teams")
	if _, err := ghLogin(t, g, f, ghAlice.ID); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("orgs unreadable: err = %v", err)
	}
	f.Forbid("/user")
	if _, err := ghLogin(t, g, f, ghAlice.ID); err == nil {
		t.Error("a login without /user succeeded")
	}
}

// TestGitHubPKCEMismatch: a stolen code is useless without the verifier
// (RFC 7636 §1), and the failed attempt burns it.
func TestGitHubPKCEMismatch(t *testing.T) {
	g, f := newGitHubFake(t, nil)
	q, verifier := ghAuthorize(t, g, f)
	id, err := g.HandleCallback(t.Context(), ghCallback, q, verifier+"x", "")
	if err == nil || id.Subject != "" || errors.Is(err, ErrNotAllowed) || errors.Is(err, ErrProviderUnavailable) {
		t.Fatalf("wrong verifier: %+v, %v", id, err)
	}
	if !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("err = %v", err)
	}
	if _, err := g.HandleCallback(t.Context(), ghCallback, q, verifier, ""); err == nil {
		t.Error("the code still worked after a failed redemption")
	}
}

// TestGitHubAuthorizeError: GitHub's error redirect (RFC 6749 §4.1.2.1)
// fails the login; the sender's text is never echoed.
func TestGitHubAuthorizeError(t *testing.T) {
	g, f := newGitHubFake(t, nil)
	f.Deny(true)
	q, verifier := ghAuthorize(t, g, f)
	_, err := g.HandleCallback(t.Context(), ghCallback, q, verifier, "")
	if err == nil || !strings.Contains(err.Error(), "access_denied") || strings.Contains(err.Error(), "denied your application") {
		t.Errorf("access_denied: err = %v", err)
	}
	forged := url.Values{"error": {"x\nlevel=error msg=forged"}, "state": {"s"}}
	if _, err := g.HandleCallback(t.Context(), ghCallback, forged, verifier, ""); err == nil || strings.Contains(err.Error(), "forged") {
		t.Errorf("forged error: err = %v", err)
	}
	for _, e := range []string{"server_error", "temporarily_unavailable"} {
		_, err := g.HandleCallback(t.Context(), ghCallback, url.Values{"error": {e}}, verifier, "")
		if !errors.Is(err, ErrProviderUnavailable) {
			t.Errorf("%s: err = %v", e, err)
		}
	}
	if _, err := g.HandleCallback(t.Context(), ghCallback, url.Values{"state": {"s"}}, verifier, ""); err == nil {
		t.Error("a callback without code was accepted")
	}
}

// TestGitHubLoginUnavailable: a failing GitHub is ErrProviderUnavailable
// (a "try later" page), never ErrNotAllowed.
func TestGitHubLoginUnavailable(t *testing.T) {
	for _, mode := range []fakegithub.Failure{fakegithub.FailAll, fakegithub.FailAPI} {
		g, f := newGitHubFake(t, func(p *config.IdentityProvider) { p.AllowedOrgs = []string{"acme"} })
		q, verifier := ghAuthorize(t, g, f)
		f.Fail(mode)
		_, err := g.HandleCallback(t.Context(), ghCallback, q, verifier, "")
		if !errors.Is(err, ErrProviderUnavailable) || errors.Is(err, ErrNotAllowed) {
			t.Errorf("mode %d: err = %v", mode, err)
		}
	}
	// Nothing listening at all.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	g, err := NewGitHub(config.IdentityProvider{ID: "gh", Type: "github", ClientID: "c", ClientSecret: "s", APIURL: dead.URL, WebURL: dead.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.HandleCallback(t.Context(), ghCallback, url.Values{"code": {"c"}}, "v", ""); !errors.Is(err, ErrProviderUnavailable) {
		t.Errorf("dead GitHub: err = %v", err)
	}
	if _, err := g.identity(t.Context(), "tok"); !errors.Is(err, ErrProviderUnavailable) {
		t.Errorf("dead API: err = %v", err)
	}
}

// TestGitHubRefresh: a re-check sees group changes, and tells a removed
// user (401) or one no longer in an allowed org (ErrUserGone) apart from
// GitHub being down (ErrProviderUnavailable).
func TestGitHubRefresh(t *testing.T) {
	g, f := newGitHubFake(t, func(p *config.IdentityProvider) { p.AllowedOrgs = []string{"acme"} })
	id, err := ghLogin(t, g, f, ghDave.ID)
	if err != nil {
		t.Fatal(err)
	}
	dave := ghDave
	dave.Teams = append(dave.Teams, "acme/sre")
	f.SetUser(dave)
	got, err := g.Refresh(t.Context(), id)
	if err != nil || got.Subject != "104" || !slices.Contains(got.Groups, "acme/sre") || string(got.ConnectorData) != string(id.ConnectorData) {
		t.Fatalf("Refresh = %+v, %v", got, err)
	}

	f.Fail(fakegithub.FailAPI)
	got, err = g.Refresh(t.Context(), id)
	if !errors.Is(err, ErrProviderUnavailable) || errors.Is(err, ErrUserGone) || got.ConnectorData != nil {
		t.Errorf("GitHub down: %+v, %v", got, err)
	}
	f.Fail(fakegithub.FailNone)

	dave.Orgs, dave.Teams = []string{"elsewhere"}, nil
	f.SetUser(dave)
	if _, err := g.Refresh(t.Context(), id); !errors.Is(err, ErrUserGone) {
		t.Errorf("removed from acme: err = %v", err)
	}

	f.SetUser(ghDave)
	if _, err := g.Refresh(t.Context(), id); err != nil {
		t.Fatalf("back in acme: %v", err)
	}
	f.DeleteUser(ghDave.ID)
	if _, err := g.Refresh(t.Context(), id); !errors.Is(err, ErrUserGone) {
		t.Errorf("deleted user: err = %v", err)
	}
	if _, err := g.Refresh(t.Context(), Identity{Subject: "104"}); !errors.Is(err, ErrUserGone) || !errors.Is(err, ErrNoToken) {
		t.Errorf("no connector data: err = %v", err)
	}
}

// TestGitHubRefreshOtherUser: data whose token now answers for another
// user (a swapped record) is not accepted for the old subject.
func TestGitHubRefreshOtherUser(t *testing.T) {
	g, f := newGitHubFake(t, nil)
	id, err := ghLogin(t, g, f, ghBob.ID)
	if err != nil {
		t.Fatal(err)
	}
	id.Subject = "101"
	if _, err := g.Refresh(t.Context(), id); !errors.Is(err, ErrUserGone) {
		t.Errorf("err = %v", err)
	}
}

// TestGitHubRefreshRenews: an expiring token is renewed shortly before it
// expires; the rotated refresh token replaces the old one, which GitHub
// then refuses; and when the renewal succeeds but the re-check fails, the
// new data still comes back for the caller to store.
func TestGitHubRefreshRenews(t *testing.T) {
	g, f := newGitHubFake(t, nil)
	f.TokenTTL = 8 * time.Hour
	clk := clock.New(time.Now())
	g.now = clk.Now
	id, err := ghLogin(t, g, f, ghAlice.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := g.AccessToken(id.ConnectorData)
	if err != nil || !exp.Equal(clk.Now().Add(8*time.Hour).UTC().Truncate(0)) {
		t.Fatalf("AccessToken = %q, %v, %v", tok, exp, err)
	}
	got, err := g.Refresh(t.Context(), id)
	if err != nil || string(got.ConnectorData) != string(id.ConnectorData) {
		t.Fatalf("early Refresh renewed or failed: %v", err)
	}

	clk.Advance(8*time.Hour - githubRefreshAhead + time.Second)
	got, err = g.Refresh(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	tok2, exp2, _ := g.AccessToken(got.ConnectorData)
	if tok2 == tok || !exp2.After(exp) {
		t.Errorf("not renewed: %q (was %q), expiry %v (was %v)", tok2, tok, exp2, exp)
	}
	if _, err := g.Refresh(t.Context(), id); !errors.Is(err, ErrUserGone) {
		t.Errorf("the rotated-out refresh token still worked: %v", err)
	}

	// Token endpoint down, access token still valid: the re-check goes on
	// with it and the data stays as it was.
	clk.Advance(8*time.Hour - time.Minute)
	f.Fail(fakegithub.FailToken)
	same, err := g.Refresh(t.Context(), got)
	if err != nil || string(same.ConnectorData) != string(got.ConnectorData) || same.Subject != "101" {
		t.Fatalf("token endpoint down before expiry: %+v, %v", same, err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := g.Refresh(t.Context(), got); !errors.Is(err, ErrProviderUnavailable) {
		t.Fatalf("token endpoint down after expiry: %v", err)
	}

	f.Fail(fakegithub.FailAPI)
	got2, err := g.Refresh(t.Context(), got)
	if !errors.Is(err, ErrProviderUnavailable) || got2.ConnectorData == nil || got2.Subject != "" {
		t.Fatalf("renewed then API down: %+v, %v; want the new data with the error", got2, err)
	}
	f.Fail(fakegithub.FailNone)
	if _, err := g.Refresh(t.Context(), Identity{Subject: "101", ConnectorData: got2.ConnectorData}); err != nil {
		t.Errorf("the data returned with the error does not work: %v", err)
	}
}

// TestGitHubTokenNotInErrors: no error of any failure path quotes a
// token, the client secret or the code.
func TestGitHubTokenNotInErrors(t *testing.T) {
	g, f := newGitHubFake(t, func(p *config.IdentityProvider) { p.AllowedTeams = []string{"acme/sre"} })
	f.TokenTTL = time.Hour
	clk := clock.New(time.Now())
	g.now = clk.Now
	id, err := ghLogin(t, g, f, ghAlice.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := decodeGitHubData(id.ConnectorData)
	secrets := []string{d.AccessToken, d.RefreshToken, fakegithub.ClientSecret}
	var errs []error
	add := func(_ any, err error) { errs = append(errs, err) }

	q, verifier := ghAuthorize(t, g, f)
	secrets = append(secrets, q.Get("code"), verifier)
	add(g.HandleCallback(t.Context(), ghCallback, q, "wrong", ""))
	f.LoginAs(ghBob.ID)
	add(ghLogin(t, g, f, ghBob.ID))
	f.Fail(fakegithub.FailAPI)
	add(g.Refresh(t.Context(), id))
	errs = append(errs, g.RevokeTokens(t.Context(), []byte(`{"access_token":"gho_unknown"}`)))
	f.Fail(fakegithub.FailAll)
	clk.Advance(time.Hour)
	add(g.Refresh(t.Context(), id))
	f.Fail(fakegithub.FailNone)
	if _, err := g.Refresh(t.Context(), id); err != nil { // renews: the refresh token rotates
		t.Fatal(err)
	}
	add(g.Refresh(t.Context(), id)) // the old refresh token is refused
	f.DeleteUser(ghAlice.ID)
	clk.Set(time.Now())
	add(g.Refresh(t.Context(), id))
	_, _, err = g.AccessToken([]byte(`{"access_token":"gho_x`))
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			continue
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains a secret", err)
			}
		}
	}
	if n := slices.IndexFunc(errs, func(e error) bool { return e == nil }); n >= 0 {
		t.Errorf("failure path %d returned no error", n)
	}
}

// TestGitHubRevokeTokens: the kill switch deletes the user's grant at
// GitHub with the app's credentials, after which the token is dead.
func TestGitHubRevokeTokens(t *testing.T) {
	g, f := newGitHubFake(t, nil)
	id, err := ghLogin(t, g, f, ghAlice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.RevokeTokens(t.Context(), id.ConnectorData); err != nil {
		t.Fatal(err)
	}
	if got := f.RevokedGrants(); !slices.Equal(got, []int64{101}) {
		t.Errorf("revoked = %v", got)
	}
	if _, err := g.Refresh(t.Context(), id); !errors.Is(err, ErrUserGone) {
		t.Errorf("Refresh after revocation: %v", err)
	}
	// A second revocation cannot be confirmed: an error, not success.
	if err := g.RevokeTokens(t.Context(), id.ConnectorData); err == nil {
		t.Error("revoking an unknown token reported success")
	}
	if err := g.RevokeTokens(t.Context(), nil); !errors.Is(err, ErrNoToken) {
		t.Errorf("no data: %v", err)
	}
	bad, _ := newGitHubFake(t, func(p *config.IdentityProvider) { p.ClientSecret = "wrong" })
	if err := bad.RevokeTokens(t.Context(), id.ConnectorData); err == nil {
		t.Error("revocation with a wrong client secret reported success")
	}
	f.Fail(fakegithub.FailAll)
	if err := g.RevokeTokens(t.Context(), id.ConnectorData); !errors.Is(err, ErrProviderUnavailable) {
		t.Errorf("GitHub down: %v", err)
	}
	noRevoke := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusMethodNotAllowed)
	}))
	defer noRevoke.Close()
	g.api = noRevoke.URL
	if err := g.RevokeTokens(t.Context(), id.ConnectorData); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("no revocation endpoint: %v", err)
	}
}

func TestGitHubConfigHash(t *testing.T) {
	mk := func(api, client string) []byte {
		g, err := NewGitHub(config.IdentityProvider{ID: "gh", Type: "github", ClientID: client, ClientSecret: "s", APIURL: api, WebURL: "https://ghe.example"})
		if err != nil {
			t.Fatal(err)
		}
		return g.ConfigHash()
	}
	a := mk("https://ghe.example/api/v3", "c1")
	if string(a) != string(mk("https://ghe.example/api/v3/", "c1")) {
		t.Error("a trailing slash changed the hash")
	}
	for _, other := range [][]byte{mk("https://ghe2.example/api/v3", "c1"), mk("https://ghe.example/api/v3", "c2"), mk("https://ghe.example/api/v3c", "1")} {
		if string(other) == string(a) {
			t.Error("different configurations share a hash")
		}
	}
	if len(a) != sha256.Size {
		t.Errorf("len = %d", len(a))
	}
}

// TestGitHubLinkLeavingAPI: a next link to another host is not followed,
// so the user's token never goes there.
func TestGitHubLinkLeavingAPI(t *testing.T) {
	var stolen atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		stolen.Add(1)
	}))
	defer evil.Close()
	var apiBase string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/user":
			w.Write([]byte(`{"id":5,"login":"m"}`))
		default:
			w.Header().Set("Link", `<`+evil.URL+r.URL.Path+`?page=2>; rel="next"`)
			if r.URL.Path == "/api/user/orgs" {
				// Same host, outside the API base: also refused.
				w.Header().Set("Link", `<`+apiBase+`/../other?page=2>; rel="next"`)
			}
			w.Write([]byte(`[]`))
		}
	}))
	defer api.Close()
	apiBase = api.URL + "/api"
	g, err := NewGitHub(config.IdentityProvider{ID: "gh", Type: "github", ClientID: "c", ClientSecret: "s", APIURL: apiBase, WebURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.identity(context.Background(), "gho_secret"); err == nil || !strings.Contains(err.Error(), "leaves the API base") {
		t.Errorf("err = %v", err)
	}
	if _, err := g.groups(context.Background(), "gho_secret"); err == nil {
		t.Error("a link outside the API path was followed")
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the token went to another host %d times", n)
	}
}

// TestGitHubPageLimit: a Link header that never ends is not followed
// forever.
func TestGitHubPageLimit(t *testing.T) {
	var calls atomic.Int32
	var base string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Link", `<`+base+`/user/orgs?page=1>; rel="next"`)
		w.Write([]byte(`[{"login":"acme"}]`))
	}))
	defer api.Close()
	base = api.URL + "/api/v3"
	g, err := NewGitHub(config.IdentityProvider{ID: "gh", Type: "github", ClientID: "c", ClientSecret: "s", APIURL: base, WebURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.groups(t.Context(), "t"); err == nil || calls.Load() != githubMaxPages {
		t.Errorf("err = %v after %d calls", err, calls.Load())
	}
}

func TestBuildGitHub(t *testing.T) {
	cs, err := Build([]config.IdentityProvider{{ID: "gh", Type: "github", ClientID: "c", ClientSecret: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	c := cs["gh"]
	if _, ok := c.(RedirectConnector); !ok || c.Type() != "github" || c.ID() != "gh" {
		t.Fatalf("connector = %#v", c)
	}
	if _, ok := c.(TokenConnector); !ok {
		t.Error("github is not a TokenConnector")
	}
	if _, ok := c.(PasswordConnector); ok {
		t.Error("github claims to be a PasswordConnector")
	}
	g := c.(*GitHub)
	if g.oauth.Endpoint.AuthURL != "https://github.com/login/oauth/authorize" || g.api != config.DefaultGitHubAPIURL {
		t.Errorf("defaults: %s, %s", g.oauth.Endpoint.AuthURL, g.api)
	}
	_, err = Build([]config.IdentityProvider{{ID: "gh", Type: "github", APIURL: "https://ghe.example/api"}})
	if err == nil || !strings.Contains(err.Error(), `provider "gh"`) {
		t.Errorf("Build without credentials or web_url: %v", err)
	}
}

// TestGitHubExpiresIn: expires_in is read from a JSON answer and from
// GitHub's default form-encoded one alike.
func TestGitHubExpiresIn(t *testing.T) {
	for _, tc := range []struct {
		tok  *oauth2.Token
		want int64
	}{
		{&oauth2.Token{ExpiresIn: 60}, 60},
		{(&oauth2.Token{}).WithExtra(url.Values{"expires_in": {"28800"}}), 28800},
		{(&oauth2.Token{}).WithExtra(map[string]any{"expires_in": float64(90)}), 90},
		{(&oauth2.Token{}).WithExtra(url.Values{"expires_in": {"-5"}}), 0},
		{(&oauth2.Token{}).WithExtra(url.Values{"expires_in": {"soon"}}), 0},
		{&oauth2.Token{}, 0},
	} {
		if got := expiresIn(tc.tok); got != tc.want {
			t.Errorf("expiresIn(%+v) = %d, want %d", tc.tok, got, tc.want)
		}
	}
}

// TestGitHubStatusError: which API answers are a verdict on the token,
// which only mean GitHub cannot answer now.
func TestGitHubStatusError(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "https://api.example/user/orgs", nil)
	for _, tc := range []struct {
		status      int
		header      http.Header
		gone, unavl bool
		noAccess    bool
	}{
		{status: 200},
		{status: 401, gone: true},
		{status: 403, noAccess: true},
		{status: 403, header: http.Header{"X-Ratelimit-Remaining": {"0"}}, unavl: true},
		{status: 403, header: http.Header{"Retry-After": {"60"}, "X-Ratelimit-Remaining": {"4000"}}, unavl: true},
		{status: 429, unavl: true},
		{status: 404, noAccess: true},
		{status: 400},
		{status: 500, unavl: true},
		{status: 503, unavl: true},
	} {
		err := statusError(req, &http.Response{StatusCode: tc.status, Header: tc.header})
		if (err == nil) != (tc.status == 200) || errors.Is(err, errGitHubUnauthorized) != tc.gone || errors.Is(err, ErrProviderUnavailable) != tc.unavl || errors.Is(err, errGitHubNoAccess) != tc.noAccess {
			t.Errorf("status %d %v: err = %v", tc.status, tc.header, err)
		}
	}
}
