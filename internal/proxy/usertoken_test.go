package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/policy"
	"github.com/mcpgate/mcpgate/internal/proxy"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
	"github.com/mcpgate/mcpgate/internal/tokens"
	"github.com/mcpgate/mcpgate/internal/usertoken"
)

// tokenIdP is a fake identity provider behind a login.TokenConnector: it
// rotates refresh tokens (a redeemed one dies; redeeming it again is
// invalid_grant) and can be made unreachable.
type tokenIdP struct {
	mu        sync.Mutex
	gen       int
	live      map[string]bool
	down      bool
	now       func() time.Time
	refreshes atomic.Int32
}

type idpData struct {
	Access, Refresh string
	Exp             int64
}

func (p *tokenIdP) issueLocked(exp time.Time) []byte {
	p.gen++
	d := idpData{Access: fmt.Sprintf("upstream-access-%d", p.gen), Refresh: fmt.Sprintf("upstream-refresh-%d", p.gen), Exp: exp.Unix()}
	p.live[d.Refresh] = true
	b, _ := json.Marshal(d)
	return b
}

func (p *tokenIdP) ID() string          { return "corp" }
func (p *tokenIdP) Type() string        { return "oidc" }
func (p *tokenIdP) DisplayName() string { return "Corp" }
func (p *tokenIdP) ConfigHash() []byte  { return []byte("corp-config") }
func (p *tokenIdP) AccessToken(data []byte) (string, time.Time, error) {
	var d idpData
	if json.Unmarshal(data, &d) != nil || d.Access == "" {
		return "", time.Time{}, login.ErrNoToken
	}
	return d.Access, time.Unix(d.Exp, 0), nil
}
func (p *tokenIdP) RevokeTokens(context.Context, []byte) error { return errors.ErrUnsupported }
func (p *tokenIdP) Refresh(_ context.Context, id login.Identity) (login.Identity, error) {
	p.refreshes.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return login.Identity{}, fmt.Errorf("dial tcp 10.1.2.3:443: connection refused: %w", login.ErrProviderUnavailable)
	}
	var d idpData
	json.Unmarshal(id.ConnectorData, &d)
	if !p.live[d.Refresh] {
		return login.Identity{}, fmt.Errorf("invalid_grant: %w", login.ErrUserGone)
	}
	delete(p.live, d.Refresh)
	id.ConnectorData = p.issueLocked(p.now().Add(time.Hour))
	return id, nil
}

// userTokenEnv is a proxy with one user_token upstream, the real
// usertoken.Manager and tokens.Refresher over a memory store, and a
// client grant (refresh family) for alice.
type userTokenEnv struct {
	t        *testing.T
	url      string
	idp      *tokenIdP
	users    *usertoken.Manager
	ref      *tokens.Refresher
	store    *memory.Store
	family   storage.RefreshFamily
	handle   string // the client's refresh token
	accepted atomic.Value
	mu       sync.Mutex
	got      []recorded
	events   []audit.Event
}

const utSubject, utClient = "corp:alice", "client-1"

func newUserTokenEnv(t *testing.T) *userTokenEnv {
	t.Helper()
	e := &userTokenEnv{t: t, store: memory.New(), idp: &tokenIdP{live: map[string]bool{}, now: time.Now}}
	e.accepted.Store("upstream-access-1")
	ring, err := seal.New([]seal.Key{{ID: "k", Secret: bytes.Repeat([]byte{3}, seal.KeySize)}}, "k")
	if err != nil {
		t.Fatal(err)
	}
	e.users, err = usertoken.New(usertoken.Options{Store: e.store, Seal: ring, Connectors: []login.Connector{e.idp}})
	if err != nil {
		t.Fatal(err)
	}
	e.ref = &tokens.Refresher{Store: e.store, Revocations: e.store, Seal: ring}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.got = append(e.got, recorded{Method: r.Method, Header: r.Header.Clone(), Body: body})
		e.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+e.accepted.Load().(string) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer(body))
	}))
	t.Cleanup(upstream.Close)
	var h http.Handler
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(gw.Close)
	e.url = gw.URL
	e.family, e.handle, err = e.ref.Start(t.Context(), storage.RefreshFamily{ClientID: utClient, Subject: utSubject,
		ProviderID: "corp", Resource: gw.URL + "/mcp/corp"})
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(upstream.URL)
	auth := proxy.AuthenticatorFunc(func(_ context.Context, tok string) (proxy.Principal, error) {
		if tok != "client-access-token" {
			return proxy.Principal{}, proxy.ErrInvalidToken
		}
		return proxy.Principal{Principal: policy.Principal{Subject: utSubject, Provider: "corp"},
			ClientID: utClient, Family: e.family.ID}, nil
	})
	p, err := proxy.New(proxy.Options{
		PublicURL: gw.URL, Seal: ring, UserTokens: e.users, Grants: e.ref,
		Audit: func(_ context.Context, ev audit.Event) { e.mu.Lock(); e.events = append(e.events, ev); e.mu.Unlock() },
		Upstreams: []proxy.Upstream{{
			Config: config.Upstream{Name: "corp", Path: "/mcp/corp", URL: upstream.URL,
				Credentials: config.Credentials{Type: "user_token", Header: "Authorization", Provider: "corp"}},
			Target: target, Transport: http.DefaultTransport.(*http.Transport).Clone(), Auth: auth,
			AuthorizationServer: gw.URL,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range p.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	h = mux
	return e
}

// login stores alice's upstream tokens as a login would, expiring at exp.
func (e *userTokenEnv) login(exp time.Time) {
	e.idp.mu.Lock()
	data := e.idp.issueLocked(exp)
	e.idp.mu.Unlock()
	if err := e.users.Keep(e.t.Context(), utSubject, "corp", data); err != nil {
		e.t.Fatal(err)
	}
}

const toolsList = `{"jsonrpc":"2.0","id":7,"method":"tools/list"}`

func (e *userTokenEnv) post() reply {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.url+"/mcp/corp", strings.NewReader(toolsList))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer client-access-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

func (e *userTokenEnv) upstreamSaw() []recorded {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]recorded(nil), e.got...)
}

// requireGrant checks whether the client's grant still works: its refresh
// token rotates, and the family is unrevoked.
func (e *userTokenEnv) requireGrant(alive bool) {
	e.t.Helper()
	fam, err := e.store.GetRefreshFamily(e.t.Context(), e.family.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	_, rerr := e.ref.Rotate(e.t.Context(), e.handle, utClient)
	switch {
	case alive && (fam.Revoked() || rerr != nil):
		e.t.Fatalf("the client's grant was ended: revoked %v, refresh: %v", fam.Revoked(), rerr)
	case !alive && (!fam.Revoked() || !errors.Is(rerr, tokens.ErrInvalidGrant)):
		e.t.Fatalf("the client's grant lives on: revoked %v, refresh: %v", fam.Revoked(), rerr)
	}
}

// TestUserTokenSent: the upstream gets the user's own upstream token and
// never the client's token (SPEC PX-8).
func TestUserTokenSent(t *testing.T) {
	e := newUserTokenEnv(t)
	e.login(time.Now().Add(time.Hour))
	r := e.post()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	saw := e.upstreamSaw()
	if len(saw) != 1 || saw[0].Header.Get("Authorization") != "Bearer upstream-access-1" {
		t.Fatalf("upstream saw %+v", saw)
	}
	for k, vs := range saw[0].Header {
		for _, v := range vs {
			if strings.Contains(v, "client-access-token") {
				t.Errorf("the client's token reached the upstream in %s", k)
			}
		}
	}
}

// TestUserToken401RefreshRetry: the upstream refuses a token that has not
// expired (the provider revoked it early): the gateway refreshes once and
// resends the same body with the new token; the client sees only success.
func TestUserToken401RefreshRetry(t *testing.T) {
	e := newUserTokenEnv(t)
	e.login(time.Now().Add(time.Hour))
	e.accepted.Store("upstream-access-2")
	r := e.post()
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"tools"`) {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	saw := e.upstreamSaw()
	if len(saw) != 2 || saw[0].Header.Get("Authorization") != "Bearer upstream-access-1" ||
		saw[1].Header.Get("Authorization") != "Bearer upstream-access-2" {
		t.Fatalf("upstream saw %d requests: %+v", len(saw), saw)
	}
	if string(saw[1].Body) != toolsList || string(saw[0].Body) != toolsList {
		t.Fatalf("retried body %q, first %q", saw[1].Body, saw[0].Body)
	}
	for i, req := range saw {
		for k, vs := range req.Header {
			if strings.Contains(strings.Join(vs, ","), "client-access-token") {
				t.Errorf("request %d: the client's token reached the upstream in %s", i, k)
			}
		}
	}
	if n := e.idp.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	e.requireGrant(true)
	// The refreshed token is stored: the next call sends it at once.
	if r := e.post(); r.Status != http.StatusOK || len(e.upstreamSaw()) != 3 {
		t.Fatalf("next call: %d, upstream saw %d", r.Status, len(e.upstreamSaw()))
	}
}

// TestUserTokenRefusedRevokesGrant is the attack-shaped case: the
// provider no longer vouches for the user (invalid_grant). The client
// must not keep a grant it can only loop on: the family is revoked, the
// client gets 401 invalid_token with a challenge, and its refresh token is
// dead afterwards.
func TestUserTokenRefusedRevokesGrant(t *testing.T) {
	e := newUserTokenEnv(t)
	e.login(time.Now().Add(time.Hour))
	e.accepted.Store("nothing")
	e.idp.mu.Lock()
	clear(e.idp.live) // the provider revoked the user's grant
	e.idp.mu.Unlock()
	r := e.post()
	requireRPCError(t, r, http.StatusUnauthorized, -32001)
	if ch := r.Header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_token"`) || !strings.Contains(ch, "resource_metadata=") {
		t.Fatalf("challenge %q", ch)
	}
	if len(e.upstreamSaw()) != 1 {
		t.Fatalf("upstream saw %d requests, want 1 (no retry without a new token)", len(e.upstreamSaw()))
	}
	e.requireGrant(false)
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.events) != 1 || e.events[0].Type != audit.TokenRevoked || e.events[0].Session != e.family.ID ||
		e.events[0].Details["reason"] != "upstream_grant_gone" {
		t.Fatalf("audit events %+v; want one token_revoked for the family", e.events)
	}
}

// TestUserTokenMissing: no stored upstream token: 401 invalid_token, so
// the client re-authorizes (and the user logs in at the provider); the
// upstream is not called without its credential.
func TestUserTokenMissing(t *testing.T) {
	e := newUserTokenEnv(t)
	r := e.post()
	requireRPCError(t, r, http.StatusUnauthorized, -32001)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("challenge %q", r.Header.Get("WWW-Authenticate"))
	}
	if len(e.upstreamSaw()) != 0 {
		t.Fatal("the upstream was called without the user's token")
	}
	e.requireGrant(false)
}

// TestUserTokenProviderDown: the provider cannot be reached, whether the
// token expired or the upstream refused it: 502 with a JSON-RPC error
// that names nothing internal, and the grant stays (nothing was decided
// about the user).
func TestUserTokenProviderDown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		expired bool
	}{{"expired", true}, {"upstream-401", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newUserTokenEnv(t)
			exp := time.Now().Add(time.Hour)
			if tc.expired {
				exp = time.Now().Add(-time.Minute)
			} else {
				e.accepted.Store("upstream-access-2")
			}
			e.login(exp)
			e.idp.mu.Lock()
			e.idp.down = true
			e.idp.mu.Unlock()
			r := e.post()
			m := requireRPCError(t, r, http.StatusBadGateway, -32000)
			if id, _ := m["id"].(float64); id != 7 {
				t.Errorf("id %v, want 7", m["id"])
			}
			for _, leak := range []string{"10.1.2.3", "refused", "login:", "usertoken", "invalid_grant"} {
				if strings.Contains(r.Body, leak) {
					t.Errorf("the error leaks %q: %s", leak, r.Body)
				}
			}
			e.requireGrant(true)
		})
	}
}
