package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/tokens"
)

// Reply is an AS endpoint's answer as a non-browser client sees it,
// headers included.
type Reply struct {
	Status int
	Header http.Header
	Raw    string
	JSON   map[string]any // nil when the body is not a JSON object
}

// Get returns the string member key of the JSON body, or "".
func (r Reply) Get(key string) string {
	s, _ := r.JSON[key].(string)
	return s
}

// Call posts body to an AS path with contentType; edit, when set, adjusts
// the request (credentials, headers) before it is sent. It goes to this
// instance's own listener, which differs from URL (public_url) when
// several instances share one public URL.
func (g *Gateway) Call(path, contentType, body string, edit func(*http.Request)) Reply {
	g.T.Helper()
	req, err := http.NewRequest(http.MethodPost, g.HTTP.URL+path, strings.NewReader(body))
	if err != nil {
		g.T.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if edit != nil {
		edit(req)
	}
	resp, err := g.Client().Do(req)
	if err != nil {
		g.T.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := Reply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	json.Unmarshal(raw, &r.JSON)
	return r
}

// CallForm posts form as PostForm does (HTTP Basic when secret is set,
// client_id in the form otherwise) and returns the whole Reply.
func (g *Gateway) CallForm(path string, form url.Values, clientID, secret string) Reply {
	g.T.Helper()
	if secret == "" && clientID != "" {
		form.Set("client_id", clientID)
	}
	return g.Call(path, "application/x-www-form-urlencoded", form.Encode(), func(r *http.Request) {
		if secret != "" {
			r.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
		}
	})
}

// Introspect asks the introspection endpoint (RFC 7662) about token.
func (g *Gateway) Introspect(token, clientID, secret string) Reply {
	g.T.Helper()
	return g.CallForm("/oauth/introspect", url.Values{"token": {token}}, clientID, secret)
}

// Revoke revokes token at the revocation endpoint (RFC 7009).
func (g *Gateway) Revoke(token, clientID, secret string) Reply {
	g.T.Helper()
	return g.CallForm("/oauth/revoke", url.Values{"token": {token}}, clientID, secret)
}

// Flow is one authorization for a pre-registered client: who asks, for
// what, and, once AuthorizeFlow has run, the code.
type Flow struct {
	Client, Secret, Redirect, Resource string
	PKCE                               PKCE
	Code                               string
}

// NewFlow prepares a flow for a pre-registered test client, with its
// secret and registered redirect URI.
func (g *Gateway) NewFlow(clientID, resource string) Flow {
	f := Flow{Client: clientID, Redirect: "http://127.0.0.1/callback", Resource: resource, PKCE: NewPKCE()}
	if clientID == ConfidentialClient {
		f.Secret, f.Redirect = ConfidentialSecret, "https://app.example/cb"
	}
	return f
}

// AuthorizeFlow runs the browser side of f for username (extra adds or
// replaces authorization parameters) and returns f with its code.
func (g *Gateway) AuthorizeFlow(b *Browser, f Flow, username string, extra url.Values) Flow {
	g.T.Helper()
	params := g.AuthParams(f.Client, f.Redirect, f.Resource, f.PKCE)
	for k, v := range extra {
		params[k] = v
	}
	loc := b.Authorize(params, username)
	if f.Code = loc.Query().Get("code"); f.Code == "" {
		g.T.Fatalf("no code in %s", loc)
	}
	return f
}

// Exchange redeems f's code with f's verifier and redirect URI; extra
// adds or replaces form parameters, and a nil value removes one.
func (g *Gateway) Exchange(f Flow, extra url.Values) Reply {
	g.T.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {f.Code},
		"redirect_uri": {f.Redirect}, "code_verifier": {f.PKCE.Verifier}}
	merge(form, extra)
	return g.CallForm("/oauth/token", form, f.Client, f.Secret)
}

// RefreshFlow redeems refreshToken as f's client; extra as in Exchange.
func (g *Gateway) RefreshFlow(f Flow, refreshToken string, extra url.Values) Reply {
	g.T.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	merge(form, extra)
	return g.CallForm("/oauth/token", form, f.Client, f.Secret)
}

// merge sets extra's parameters on form; a nil value deletes one (a test
// of a missing parameter).
func merge(form, extra url.Values) {
	for k, v := range extra {
		if v == nil {
			delete(form, k)
			continue
		}
		form[k] = v
	}
}

// Tokens runs a whole flow for clientID and username and redeems the
// code, failing the test unless the token endpoint answers 200.
func (g *Gateway) Tokens(b *Browser, clientID, resource, username string) (Flow, Reply) {
	g.T.Helper()
	f := g.AuthorizeFlow(b, g.NewFlow(clientID, resource), username, nil)
	r := g.Exchange(f, nil)
	if r.Status != http.StatusOK {
		g.T.Fatalf("code exchange for %s: %d %s", clientID, r.Status, r.Raw)
	}
	return f, r
}

// VerifyAccess checks an access token for resource on this instance, as
// the proxy will (server.VerifyAccessToken).
func (g *Gateway) VerifyAccess(token, resource string) (tokens.Claims, error) {
	return g.Server.VerifyAccessToken(context.Background(), token, resource)
}

// WaitRevoked polls this instance's verifier until it rejects token as
// revoked, for at most within, and returns how long that took. Any other
// verdict than "accepted" or "revoked" is an error at once: a token
// rejected for the wrong reason proves nothing about revocation. This is
// the one wait on real time the SPEC itself sets (AS-5a: every instance
// within 5 s); it polls a condition, it never sleeps a fixed time.
func (g *Gateway) WaitRevoked(token, resource string, within time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := g.VerifyAccess(token, resource)
		switch {
		case errors.Is(err, tokens.ErrRevokedToken):
			return time.Since(start), nil
		case err != nil:
			return time.Since(start), fmt.Errorf("rejected, but not as revoked: %w", err)
		}
		select {
		case <-deadline.C:
			return time.Since(start), fmt.Errorf("still accepted after %v", within)
		case <-tick.C:
		}
	}
}

// JWTHeader returns a compact JWS's protected header without checking
// anything: tests assert on the wire format the client receives
// (JWTPayload gives the claims).
func JWTHeader(t testing.TB, token string) map[string]any {
	t.Helper()
	return jwsPart(t, token, 0, "header")
}

// RequireOAuthError fails unless r is the RFC 6749 §5.2 error code with
// status, uncacheable (§5.1), and carrying the request ID of its
// X-Request-Id header so a client's report can be matched to the log
// (SPEC AS-10).
func RequireOAuthError(t testing.TB, r Reply, status int, code string) {
	t.Helper()
	if r.Status != status || r.Get("error") != code {
		t.Fatalf("got %d %s, want %d with error %q", r.Status, r.Raw, status, code)
	}
	if id := r.Header.Get("X-Request-Id"); id == "" || r.Get("request_id") != id {
		t.Errorf("request_id %q, X-Request-Id %q: want equal and set", r.Get("request_id"), id)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("error response Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
	}
}

// RequireInactive fails unless r is exactly {"active": false}: RFC 7662
// §2.2 says nothing more about an inactive token, and neither may we (a
// reason would be an oracle, SPEC AS-8).
func RequireInactive(t testing.TB, r Reply) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.JSON) != 1 || r.JSON["active"] != false {
		t.Fatalf("introspection: %d %s, want 200 and {\"active\": false} only", r.Status, r.Raw)
	}
}

// RequireValid fails unless this instance's verifier accepts token for
// resource, and returns its claims.
func (g *Gateway) RequireValid(t testing.TB, token, resource string) tokens.Claims {
	t.Helper()
	c, err := g.VerifyAccess(token, resource)
	if err != nil {
		t.Fatalf("access token rejected: %v", err)
	}
	return c
}

// RequireRevoked fails unless this instance's verifier rejects token as
// revoked; rejected for another reason proves nothing about revocation.
func (g *Gateway) RequireRevoked(t testing.TB, token, resource string) {
	t.Helper()
	if _, err := g.VerifyAccess(token, resource); !errors.Is(err, tokens.ErrRevokedToken) {
		t.Fatalf("access token: got %v, want revoked", err)
	}
}

// RequireAudit fails unless an audit event of typ has details[key] ==
// value and a risk of at least minRisk, and returns it.
func (g *Gateway) RequireAudit(t testing.TB, typ, key, value string, minRisk int) AuditEvent {
	t.Helper()
	for _, e := range g.AuditEvents(typ) {
		if e.Details[key] == value && e.Risk >= minRisk {
			return e
		}
	}
	t.Fatalf("no %s event with %s=%s and risk >= %d in:\n%s", typ, key, value, minRisk, g.Audit.String())
	return AuditEvent{}
}
