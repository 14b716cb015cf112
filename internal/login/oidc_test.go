package login_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
	"github.com/mcpgate/mcpgate/internal/testenv/fakeoidc"
)

const callbackURL = "https://gw.test/oauth/callback/corp"

func oidcProvider(issuer string) config.IdentityProvider {
	return config.IdentityProvider{ID: "corp", Type: "oidc", Issuer: issuer, ClientID: fakeoidc.ClientID,
		ClientSecret: fakeoidc.ClientSecret, Scopes: []string{"openid", "profile", "email"}, GroupsClaim: "groups"}
}

func newOIDC(t *testing.T, op *fakeoidc.OP, opts ...login.OIDCOption) *login.OIDC {
	t.Helper()
	c, err := login.NewOIDC(oidcProvider(op.Issuer), append([]login.OIDCOption{login.WithHTTPClient(op.Client())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// flow is one login's secrets as internal/oauth keeps them.
type flow struct{ state, verifier, nonce string }

func newFlow() flow {
	return flow{state: "st-" + randText(), verifier: randText() + randText(), nonce: "n-" + randText()}
}

func randText() string { return rand.Text() }

// browse sends the browser to LoginURL and returns the callback query the
// OP redirects back with.
func browse(t *testing.T, op *fakeoidc.OP, c *login.OIDC, f flow) url.Values {
	t.Helper()
	sum := sha256.Sum256([]byte(f.verifier))
	target, err := c.LoginURL(callbackURL, f.state, base64.RawURLEncoding.EncodeToString(sum[:]), f.nonce)
	if err != nil {
		t.Fatalf("LoginURL: %v", err)
	}
	hc := op.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), callbackURL+"?") {
		t.Fatalf("authorize answered %d %v, want a redirect to the callback", resp.StatusCode, loc)
	}
	return loc.Query()
}

func loginOIDC(t *testing.T, op *fakeoidc.OP, c *login.OIDC) (login.Identity, error) {
	t.Helper()
	f := newFlow()
	q := browse(t, op, c, f)
	return c.HandleCallback(context.Background(), callbackURL, q, f.verifier, f.nonce)
}

// TestOIDCLogin: the happy path. The authorization request carries PKCE
// S256, state and nonce and never a resource parameter (Entra refuses
// it); the identity carries the mapped claims; the connector data holds
// the upstream tokens.
func TestOIDCLogin(t *testing.T) {
	op := fakeoidc.New(t)
	c := newOIDC(t, op)
	id, err := loginOIDC(t, op, c)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "user-1" || id.Email != "carol@idp.test" || !id.EmailVerified || id.Name != "Carol" ||
		id.Username != "carol" || !slices.Equal(id.Groups, []string{"staff"}) {
		t.Fatalf("identity = %+v", id)
	}
	q := op.AuthorizeRequests()[0]
	if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" || q.Has("resource") ||
		q.Get("scope") != "openid profile email" || q.Get("redirect_uri") != callbackURL {
		t.Fatalf("authorization request = %v", q)
	}
	tok, exp, err := c.AccessToken(id.ConnectorData)
	if err != nil || tok == "" || exp.Before(time.Now()) {
		t.Fatalf("AccessToken = %q, %v, %v", tok, exp, err)
	}
	var data map[string]any
	if json.Unmarshal(id.ConnectorData, &data) != nil || data["refresh_token"] == "" || data["id_token"] == "" {
		t.Fatalf("connector data = %s", id.ConnectorData)
	}
}

// TestOIDCRejectsBadIDTokens: attack tests. An ID token that is forged
// (signed by a key the JWKS does not hold), for another client, for
// another login (nonce), or expired is refused, and no identity results.
func TestOIDCRejectsBadIDTokens(t *testing.T) {
	for name, set := range map[string]func(*fakeoidc.OP){
		"forged signature": func(op *fakeoidc.OP) { op.ForgeSig = true },
		"wrong audience":   func(op *fakeoidc.OP) { op.WrongAud = true },
		"wrong nonce":      func(op *fakeoidc.OP) { op.WrongNonce = true },
		"expired":          func(op *fakeoidc.OP) { op.Expired = true },
	} {
		t.Run(name, func(t *testing.T) {
			op := fakeoidc.New(t)
			c := newOIDC(t, op)
			op.Set(set)
			id, err := loginOIDC(t, op, c)
			if err == nil || id.Subject != "" {
				t.Fatalf("accepted: %+v", id)
			}
			if errors.Is(err, login.ErrProviderUnavailable) || errors.Is(err, login.ErrUserGone) {
				t.Fatalf("a bad token is a failed login, not %v", err)
			}
		})
	}
}

// TestOIDCNonceOfAnotherLogin: a code and ID token obtained in one login
// cannot complete another (token injection): the nonce the caller kept
// for this flow does not match.
func TestOIDCNonceOfAnotherLogin(t *testing.T) {
	op := fakeoidc.New(t)
	c := newOIDC(t, op)
	f := newFlow()
	q := browse(t, op, c, f)
	if _, err := c.HandleCallback(context.Background(), callbackURL, q, f.verifier, "another-flow-nonce"); err == nil ||
		!strings.Contains(err.Error(), "nonce") {
		t.Fatalf("err = %v, want a nonce mismatch", err)
	}
}

// TestOIDCWrongVerifier: the code is useless without this flow's PKCE
// verifier (a stolen code).
func TestOIDCWrongVerifier(t *testing.T) {
	op := fakeoidc.New(t)
	c := newOIDC(t, op)
	f := newFlow()
	q := browse(t, op, c, f)
	_, err := c.HandleCallback(context.Background(), callbackURL, q, "not-the-verifier-not-the-verifier-00000000", f.nonce)
	if err == nil || errors.Is(err, login.ErrProviderUnavailable) {
		t.Fatalf("err = %v, want a refused exchange", err)
	}
}

// TestOIDCKeyRotation: the provider rotates its signing key; the next
// login's token, under a kid the cached JWKS lacks, is verified after a
// refetch, with no restart.
func TestOIDCKeyRotation(t *testing.T) {
	op := fakeoidc.New(t)
	c := newOIDC(t, op)
	if _, err := loginOIDC(t, op, c); err != nil {
		t.Fatal(err)
	}
	op.Rotate(false)
	if id, err := loginOIDC(t, op, c); err != nil || id.Subject != "user-1" {
		t.Fatalf("after rotation: %+v, %v", id, err)
	}
}

// TestOIDCDeniedAtProvider: the user refuses consent at the IdP; the
// callback's error is a CallbackError with the registered code, and an
// unregistered code (attacker-chosen text) is reduced to "other".
func TestOIDCDeniedAtProvider(t *testing.T) {
	op := fakeoidc.New(t)
	c := newOIDC(t, op)
	op.Set(func(op *fakeoidc.OP) { op.DenyWith = "access_denied" })
	_, err := loginOIDC(t, op, c)
	var ce *login.CallbackError
	if !errors.As(err, &ce) || ce.Code != "access_denied" {
		t.Fatalf("err = %v, want CallbackError access_denied", err)
	}
	_, err = c.HandleCallback(context.Background(), callbackURL, url.Values{"error": {"<script>"}}, "v", "n")
	if !errors.As(err, &ce) || ce.Code != "other" || strings.Contains(err.Error(), "script") {
		t.Fatalf("err = %v", err)
	}
}

// TestOIDCProviderDownAtStart: the connector is built while the IdP is
// down (the gateway starts); a login gets ErrProviderUnavailable, a burst
// of logins within the retry delay does not hammer the IdP, and once the
// IdP is back (and the delay passed) logins work.
func TestOIDCProviderDownAtStart(t *testing.T) {
	op := fakeoidc.New(t)
	op.Set(func(op *fakeoidc.OP) { op.Down = true })
	clk := clock.New(time.Now())
	c := newOIDC(t, op, login.WithClock(clk.Now))
	sum := sha256.Sum256([]byte("v"))
	for range 2 {
		if _, err := c.LoginURL(callbackURL, "s", base64.RawURLEncoding.EncodeToString(sum[:]), "n"); !errors.Is(err, login.ErrProviderUnavailable) {
			t.Fatalf("LoginURL while down: %v", err)
		}
	}
	op.Set(func(op *fakeoidc.OP) { op.Down = false })
	if _, err := c.LoginURL(callbackURL, "s", "c", "n"); !errors.Is(err, login.ErrProviderUnavailable) {
		t.Fatalf("retried within the delay: %v", err)
	}
	clk.Advance(6 * time.Second)
	if id, err := loginOIDC(t, op, c); err != nil || id.Subject != "user-1" {
		t.Fatalf("after recovery: %+v, %v", id, err)
	}
}

// TestOIDCGroupsClaimShapes: the groups claim may be an array or a single
// string, may come only from userinfo, and junk is ignored.
func TestOIDCGroupsClaimShapes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		groups     any
		inUserinfo bool
		want       []string
	}{
		{"array", []string{"a", "b"}, false, []string{"a", "b"}},
		{"string", "admins", false, []string{"admins"}},
		{"userinfo only", []string{"ops"}, true, []string{"ops"}},
		{"number", 42, false, nil},
		{"mixed", []any{"x", 1, ""}, false, []string{"x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := fakeoidc.New(t)
			op.Set(func(op *fakeoidc.OP) { op.User.Groups, op.User.InUserinfo = tc.groups, tc.inUserinfo })
			id, err := loginOIDC(t, op, newOIDC(t, op))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(id.Groups, tc.want) {
				t.Fatalf("groups = %q, want %q", id.Groups, tc.want)
			}
			if tc.inUserinfo && id.Email != "carol@idp.test" {
				t.Fatalf("email from userinfo not mapped: %+v", id)
			}
		})
	}
}

// TestOIDCEmailVerifiedFalse: an unverified email is passed on as such, so
// policy does not trust it.
func TestOIDCEmailVerifiedFalse(t *testing.T) {
	op := fakeoidc.New(t)
	op.Set(func(op *fakeoidc.OP) { op.User.EmailVerified = false })
	id, err := loginOIDC(t, op, newOIDC(t, op))
	if err != nil || id.EmailVerified || id.Email == "" {
		t.Fatalf("identity = %+v, %v", id, err)
	}
}

// TestOIDCRefreshRotates: Refresh redeems the refresh token, returns new
// connector data (the provider rotated the token) and current groups; the
// old data is dead at the provider, so a second refresh of it is
// ErrUserGone (why internal/usertoken serialises refreshes).
func TestOIDCRefreshRotates(t *testing.T) {
	op := fakeoidc.New(t)
	c := newOIDC(t, op)
	id, err := loginOIDC(t, op, c)
	if err != nil {
		t.Fatal(err)
	}
	op.Set(func(op *fakeoidc.OP) { op.User.Groups = []string{"staff", "admins"} })
	next, err := c.Refresh(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if string(next.ConnectorData) == string(id.ConnectorData) || !slices.Equal(next.Groups, []string{"staff", "admins"}) ||
		next.Subject != "user-1" || next.Email != "carol@idp.test" {
		t.Fatalf("refreshed identity = %+v", next)
	}
	oldTok, _, _ := c.AccessToken(id.ConnectorData)
	newTok, _, _ := c.AccessToken(next.ConnectorData)
	if oldTok == newTok {
		t.Fatal("access token not renewed")
	}
	if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
		t.Fatalf("refresh with the rotated-out token: %v, want ErrUserGone", err)
	}
}

// TestOIDCRefreshUserDisabled: the provider refuses the refresh token
// (invalid_grant: user disabled) -> ErrUserGone; a provider answering 5xx
// is ErrProviderUnavailable, not a verdict.
func TestOIDCRefreshUserDisabled(t *testing.T) {
	op := fakeoidc.New(t)
	c := newOIDC(t, op)
	id, err := loginOIDC(t, op, c)
	if err != nil {
		t.Fatal(err)
	}
	op.Set(func(op *fakeoidc.OP) { op.Down = true })
	if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrProviderUnavailable) || errors.Is(err, login.ErrUserGone) {
		t.Fatalf("refresh while down: %v", err)
	}
	op.Set(func(op *fakeoidc.OP) { op.Down = false })
	op.KillRefreshTokens()
	if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
		t.Fatalf("refresh of a killed token: %v", err)
	}
}

// noRefreshLogin logs the user in at an OP that issues no refresh token
// (set adjusts the OP first) and returns the identity and the number of
// token requests the login cost.
func noRefreshLogin(t *testing.T, set func(*fakeoidc.OP), opts ...login.OIDCOption) (*fakeoidc.OP, *login.OIDC, login.Identity) {
	t.Helper()
	op := fakeoidc.New(t)
	op.Set(func(op *fakeoidc.OP) {
		op.NoRefresh = true
		if set != nil {
			set(op)
		}
	})
	c := newOIDC(t, op, opts...)
	id, err := loginOIDC(t, op, c)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if json.Unmarshal(id.ConnectorData, &data) != nil || data["refresh_token"] != nil {
		t.Fatalf("connector data holds a refresh token: %s", id.ConnectorData)
	}
	return op, c, id
}

// TestOIDCRecheckWithoutRefreshToken (SPEC AS-6): without a refresh token
// the re-check asks the userinfo endpoint with the stored access token.
// An answer updates groups and email; a provider refusing the token (the
// user disabled) is ErrUserGone, the verdict that revokes the family; a
// 5xx is ErrProviderUnavailable, not a verdict.
func TestOIDCRecheckWithoutRefreshToken(t *testing.T) {
	t.Run("userinfo answers: groups and email updated", func(t *testing.T) {
		op, c, id := noRefreshLogin(t, func(op *fakeoidc.OP) { op.User.InUserinfo = true })
		if !slices.Equal(id.Groups, []string{"staff"}) {
			t.Fatalf("login groups = %v", id.Groups)
		}
		var calls, tokens int
		op.Set(func(op *fakeoidc.OP) {
			op.User.Groups = []string{"staff", "admins"}
			op.User.Email, op.User.EmailVerified = "carol@new.test", false
			calls, tokens = op.UserinfoCalls, op.TokenRequests
		})
		next, err := c.Refresh(context.Background(), id)
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if !slices.Equal(next.Groups, []string{"staff", "admins"}) || next.Email != "carol@new.test" || next.EmailVerified ||
			next.Subject != "user-1" || string(next.ConnectorData) != string(id.ConnectorData) {
			t.Fatalf("re-checked identity = %+v", next)
		}
		op.Set(func(op *fakeoidc.OP) {
			if op.UserinfoCalls != calls+1 || op.TokenRequests != tokens {
				t.Errorf("userinfo calls %d -> %d, token requests %d -> %d; want one userinfo call and no token request",
					calls, op.UserinfoCalls, tokens, op.TokenRequests)
			}
		})
	})
	t.Run("userinfo without the claims: what was known stands", func(t *testing.T) {
		op, c, id := noRefreshLogin(t, nil) // email and groups in the ID token only
		op.Set(func(op *fakeoidc.OP) { op.User.Groups = []string{"other"} })
		next, err := c.Refresh(context.Background(), id)
		if err != nil || !slices.Equal(next.Groups, []string{"staff"}) || next.Email != "carol@idp.test" || !next.EmailVerified {
			t.Fatalf("Refresh = %+v, %v", next, err)
		}
	})
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(fmt.Sprintf("user disabled: userinfo %d", status), func(t *testing.T) {
			op, c, id := noRefreshLogin(t, nil)
			op.Set(func(op *fakeoidc.OP) { op.UserinfoStatus = status })
			if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
				t.Fatalf("Refresh = %v, want ErrUserGone", err)
			}
		})
	}
	t.Run("token revoked at the provider", func(t *testing.T) {
		_, c, id := noRefreshLogin(t, nil)
		if err := c.RevokeTokens(context.Background(), id.ConnectorData); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
			t.Fatalf("Refresh = %v, want ErrUserGone", err)
		}
	})
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprintf("userinfo %d is no verdict", status), func(t *testing.T) {
			op, c, id := noRefreshLogin(t, nil)
			op.Set(func(op *fakeoidc.OP) { op.UserinfoStatus = status })
			_, err := c.Refresh(context.Background(), id)
			if !errors.Is(err, login.ErrProviderUnavailable) || errors.Is(err, login.ErrUserGone) {
				t.Fatalf("Refresh = %v, want ErrProviderUnavailable only", err)
			}
		})
	}
	t.Run("unknown expiry: still asked", func(t *testing.T) {
		op, c, id := noRefreshLogin(t, nil)
		var data map[string]any
		if err := json.Unmarshal(id.ConnectorData, &data); err != nil {
			t.Fatal(err)
		}
		delete(data, "expiry")
		id.ConnectorData, _ = json.Marshal(data)
		op.Set(func(op *fakeoidc.OP) { op.UserinfoStatus = http.StatusUnauthorized })
		if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
			t.Fatalf("Refresh = %v, want ErrUserGone from the userinfo answer", err)
		}
		op.Set(func(op *fakeoidc.OP) { op.UserinfoStatus = 0 })
		if _, err := c.Refresh(context.Background(), id); err != nil {
			t.Fatalf("Refresh with a live token of unknown expiry: %v", err)
		}
	})
}

// TestOIDCRecheckWithoutRefreshTokenExpired (SPEC AS-6): once the access
// token has expired (by the connector's clock), or with no userinfo
// endpoint or no stored tokens, the provider cannot vouch for the user:
// ErrUserGone, so the family is revoked and the user logs in again,
// instead of the identity standing unchecked for the family's lifetime.
func TestOIDCRecheckWithoutRefreshTokenExpired(t *testing.T) {
	t.Run("access token expired", func(t *testing.T) {
		clk := clock.New(time.Now())
		op, c, id := noRefreshLogin(t, nil, login.WithClock(clk.Now))
		_, exp, err := c.AccessToken(id.ConnectorData)
		if err != nil || exp.IsZero() {
			t.Fatalf("AccessToken expiry = %v, %v", exp, err)
		}
		clk.Set(exp.Add(-time.Minute))
		if _, err := c.Refresh(context.Background(), id); err != nil {
			t.Fatalf("Refresh a minute before expiry: %v", err)
		}
		var calls int
		op.Set(func(op *fakeoidc.OP) { calls = op.UserinfoCalls })
		clk.Set(exp.Add(time.Second))
		_, err = c.Refresh(context.Background(), id)
		if !errors.Is(err, login.ErrUserGone) || !strings.Contains(err.Error(), "request offline access") {
			t.Fatalf("Refresh after expiry = %v, want ErrUserGone asking for offline access", err)
		}
		op.Set(func(op *fakeoidc.OP) {
			if op.UserinfoCalls != calls {
				t.Errorf("userinfo asked with an expired token")
			}
		})
	})
	t.Run("no userinfo endpoint", func(t *testing.T) {
		_, c, id := noRefreshLogin(t, func(op *fakeoidc.OP) { op.NoUserinfo = true })
		if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
			t.Fatalf("Refresh = %v, want ErrUserGone", err)
		}
	})
	t.Run("no stored tokens", func(t *testing.T) {
		_, c, id := noRefreshLogin(t, nil)
		id.ConnectorData = nil
		if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
			t.Fatalf("Refresh = %v, want ErrUserGone", err)
		}
	})
}

// TestOIDCAuthParams: configured auth_params reach the authorization
// request, and (attack test) none can replace what binds the answer to
// this login: state, nonce, the PKCE challenge and method, the client,
// redirect URI, scope and response type keep mcpgate's values, each sent
// once, and the login still completes.
func TestOIDCAuthParams(t *testing.T) {
	op := fakeoidc.New(t)
	p := oidcProvider(op.Issuer)
	p.AuthParams = map[string]string{"access_type": "offline", "prompt": "consent"}
	for _, k := range config.ReservedAuthParams {
		p.AuthParams[k] = "attacker"
	}
	c, err := login.NewOIDC(p, login.WithHTTPClient(op.Client()))
	if err != nil {
		t.Fatal(err)
	}
	f := newFlow()
	q := browse(t, op, c, f)
	if _, err := c.HandleCallback(context.Background(), callbackURL, q, f.verifier, f.nonce); err != nil {
		t.Fatalf("login with auth_params: %v", err)
	}
	sum := sha256.Sum256([]byte(f.verifier))
	sent := op.AuthorizeRequests()[0]
	for k, want := range map[string]string{
		"access_type": "offline", "prompt": "consent",
		"state": f.state, "nonce": f.nonce,
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]), "code_challenge_method": "S256",
		"client_id": fakeoidc.ClientID, "redirect_uri": callbackURL, "scope": "openid profile email", "response_type": "code",
	} {
		if got := sent[k]; len(got) != 1 || got[0] != want {
			t.Errorf("authorization request %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"resource", "request", "request_uri"} {
		if sent.Has(k) {
			t.Errorf("authorization request carries %s=%q", k, sent[k])
		}
	}
}

// TestOIDCRevokeTokens: the kill switch revokes both tokens at the
// provider (RFC 7009), after which the refresh token is dead; without a
// revocation endpoint the answer is errors.ErrUnsupported.
func TestOIDCRevokeTokens(t *testing.T) {
	op := fakeoidc.New(t)
	c := newOIDC(t, op)
	id, err := loginOIDC(t, op, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeTokens(context.Background(), id.ConnectorData); err != nil {
		t.Fatal(err)
	}
	access, _, _ := c.AccessToken(id.ConnectorData)
	if r := op.Revoked(); len(r) != 2 || r[1] != access {
		t.Fatalf("revoked = %v", r)
	}
	if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
		t.Fatalf("refresh after revocation: %v", err)
	}

	op2 := fakeoidc.New(t)
	op2.Set(func(op *fakeoidc.OP) { op.NoRevocation = true })
	c2 := newOIDC(t, op2)
	if err := c2.RevokeTokens(context.Background(), id.ConnectorData); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("RevokeTokens without endpoint: %v", err)
	}
}

// TestOIDCAccessTokenAndConfigHash: no token is ErrNoToken; the config
// hash changes with the issuer and with the client.
func TestOIDCAccessTokenAndConfigHash(t *testing.T) {
	a, _ := login.NewOIDC(oidcProvider("https://a.test"))
	if _, _, err := a.AccessToken(nil); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("AccessToken(nil) = %v", err)
	}
	if _, _, err := a.AccessToken([]byte(`{"refresh_token":"r"}`)); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("AccessToken without access = %v", err)
	}
	b, _ := login.NewOIDC(oidcProvider("https://b.test"))
	p := oidcProvider("https://a.test")
	p.ClientID = "other"
	c, _ := login.NewOIDC(p)
	a2, _ := login.NewOIDC(oidcProvider("https://a.test"))
	if string(a.ConfigHash()) == string(b.ConfigHash()) || string(a.ConfigHash()) == string(c.ConfigHash()) ||
		string(a.ConfigHash()) != string(a2.ConfigHash()) {
		t.Fatal("config hash does not follow issuer and client_id")
	}
}

// TestBuildOIDC: Build makes an oidc connector without contacting the
// provider (an unreachable issuer does not stop the gateway).
func TestBuildOIDC(t *testing.T) {
	cs, err := login.Build([]config.IdentityProvider{oidcProvider("https://127.0.0.1:1")})
	if err != nil {
		t.Fatal(err)
	}
	c := cs["corp"]
	if _, ok := c.(login.TokenConnector); !ok || c.Type() != "oidc" {
		t.Fatalf("connector = %#v", c)
	}
	if _, ok := c.(login.RedirectConnector); !ok {
		t.Fatal("not a RedirectConnector")
	}
}

// TestOIDCMixUpIssuer: a callback whose iss (RFC 9207) names another
// issuer is refused before the code is redeemed.
func TestOIDCMixUpIssuer(t *testing.T) {
	op := fakeoidc.New(t)
	c := newOIDC(t, op)
	f := newFlow()
	q := browse(t, op, c, f)
	q.Set("iss", "https://evil.test")
	if _, err := c.HandleCallback(context.Background(), callbackURL, q, f.verifier, f.nonce); err == nil ||
		!strings.Contains(err.Error(), "iss") {
		t.Fatalf("err = %v, want an issuer mismatch", err)
	}
	q.Set("iss", op.Issuer) // the code was not spent: the genuine response still works
	if id, err := c.HandleCallback(context.Background(), callbackURL, q, f.verifier, f.nonce); err != nil || id.Subject != "user-1" {
		t.Fatalf("genuine callback: %+v, %v", id, err)
	}
}

// TestOIDCTokenRequestSentOnce: the client authenticates the way the
// provider's metadata offers, never by trial. x/oauth2's auto-detection
// answers a failed token request by sending it again with the secret
// elsewhere, so a refused refresh reached the provider twice, the second
// time redeeming a refresh token the first might already have rotated. A
// provider offering only client_secret_post gets it at the token and
// revocation endpoints alike.
func TestOIDCTokenRequestSentOnce(t *testing.T) {
	for _, methods := range [][]string{nil, {"client_secret_basic", "client_secret_post"}, {"client_secret_post"}} {
		t.Run(strings.Join(append([]string{"methods"}, methods...), " "), func(t *testing.T) {
			op := fakeoidc.New(t)
			op.Set(func(op *fakeoidc.OP) { op.AuthMethods = methods })
			c := newOIDC(t, op)
			requests := func() (token, invalid int) {
				op.Set(func(op *fakeoidc.OP) { token, invalid = op.TokenRequests, op.InvalidGrants })
				return token, invalid
			}
			id, err := loginOIDC(t, op, c)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := requests(); n != 1 {
				t.Fatalf("the code exchange took %d token requests, want 1", n)
			}
			next, err := c.Refresh(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := requests(); n != 2 {
				t.Fatalf("login and refresh took %d token requests, want 2", n)
			}
			// id's refresh token is rotated out: the provider refuses it once.
			if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
				t.Fatalf("refresh with the rotated-out token: %v, want ErrUserGone", err)
			}
			if n, invalid := requests(); n != 3 || invalid != 1 {
				t.Fatalf("a refused refresh took %d token requests (%d invalid_grant) after 2, want one", n-2, invalid)
			}
			if err := c.RevokeTokens(context.Background(), next.ConnectorData); err != nil {
				t.Fatalf("revocation: %v", err)
			}
			if r := op.Revoked(); len(r) != 2 {
				t.Fatalf("revoked %d tokens, want 2", len(r))
			}
		})
	}
}
