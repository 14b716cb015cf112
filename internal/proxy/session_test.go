package proxy_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// sessionSpy wraps the real go-sdk demo upstream and records the
// Mcp-Session-Id of every request it receives: the upstream's own IDs.
type sessionSpy struct {
	mu   sync.Mutex
	seen []string
	n    int
}

func newDemoUpstream(t *testing.T) (*httptest.Server, *sessionSpy) {
	t.Helper()
	spy := &sessionSpy{}
	h := demoupstream.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spy.mu.Lock()
		spy.n++
		if sid := r.Header.Get("Mcp-Session-Id"); sid != "" {
			spy.seen = append(spy.seen, sid)
		}
		spy.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, spy
}

func (s *sessionSpy) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *sessionSpy) lastSession(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		t.Fatal("the upstream saw no session ID")
	}
	return s.seen[len(s.seen)-1]
}

// initSession initializes an MCP session through the gateway at path and
// returns the session ID the client sees.
func initSession(t *testing.T, g *testenv.Gateway, path, tok string) string {
	t.Helper()
	r := post(t, g, path, tok, initializeBody, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("initialize: %d %s", r.Status, r.Body)
	}
	sid := r.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatalf("initialize: no Mcp-Session-Id in %v", r.Header)
	}
	if r := post(t, g, path, tok, initializedBody, withSession(sid)); r.Status != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d %s", r.Status, r.Body)
	}
	return sid
}

const echoCall = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"mine"}}}`

// TestSessionBinding: the session ID a client sees is sealed and bound to
// the (subject, client, upstream) that created it (SPEC PX-9). Its owner
// keeps using it; another user, another client of the same user, another
// upstream, the raw upstream ID and garbage all get 404 on every method,
// and nothing reaches the upstream. A foreign principal presenting it is
// audited as suspicious.
func TestSessionBinding(t *testing.T) {
	t.Parallel()
	up, spy := newDemoUpstream(t)
	g := gateway(t, up.URL, nil)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	aliceOtherClient := accessTokenFor(t, g, testenv.ConfidentialClient, testenv.Alice, testenv.FilesPath, "")
	bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
	bobAdmin := accessToken(t, g, testenv.Bob, testenv.AdminPath, "admin:all")

	sid := initSession(t, g, testenv.FilesPath, alice)
	raw := spy.lastSession(t)
	if sid == raw || strings.Contains(sid, raw) || strings.Contains(raw, sid) {
		t.Fatalf("client session ID %q is the upstream's %q", sid, raw)
	}
	if dec, err := base64.RawURLEncoding.DecodeString(sid); err == nil && strings.Contains(string(dec), raw) {
		t.Fatalf("client session ID %q carries the upstream's %q in the clear", sid, raw)
	}

	// The owner's calls work, and the ID she sees never changes.
	for range 2 {
		r := post(t, g, testenv.FilesPath, alice, echoCall, withSession(sid))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "mine") {
			t.Fatalf("alice's call in her session: %d %s", r.Status, r.Body)
		}
		if got := r.Header.Get("Mcp-Session-Id"); got != "" && got != sid {
			t.Fatalf("session ID changed from %q to %q", sid, got)
		}
		if spy.lastSession(t) != raw {
			t.Fatalf("upstream received session %q, want its own %q", spy.lastSession(t), raw)
		}
	}

	bobSid := initSession(t, g, testenv.FilesPath, bob)
	before := spy.requests()
	cases := []struct {
		name, path, token, sid string
	}{
		{"another user", testenv.FilesPath, bob, sid},
		{"same user, another client", testenv.FilesPath, aliceOtherClient, sid},
		{"another upstream", testenv.AdminPath, bobAdmin, bobSid},
		{"the raw upstream ID", testenv.FilesPath, alice, raw},
		{"garbage", testenv.FilesPath, alice, "not-a-session"},
		{"tampered", testenv.FilesPath, alice, tamper(sid)},
		{"empty-looking base64", testenv.FilesPath, alice, "AAAA"},
	}
	for _, c := range cases {
		for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
			body := ""
			if method == http.MethodPost {
				body = echoCall
			}
			r := call(t, g, method, c.path, c.token, body, withSession(c.sid))
			t.Run(c.name+"/"+method, func(t *testing.T) {
				m := requireRPCError(t, r, http.StatusNotFound, -32004)
				if method == http.MethodPost && m["id"] != float64(3) {
					t.Errorf("id %v, want 3", m["id"])
				}
			})
		}
	}
	if n := spy.requests(); n != before {
		t.Fatalf("the upstream received %d requests with a foreign or bad session ID", n-before)
	}

	// Bob's attempt on Alice's session is audited against Bob.
	e := g.RequireAudit(t, "suspicious_activity", "reason", "mcp_session_of_another_principal", 50)
	if e.User != "local:bob" && e.User != "local:alice" {
		t.Errorf("suspicious_activity user %q", e.User)
	}
	var bobs int
	for _, e := range g.AuditEvents("suspicious_activity") {
		if e.User == "local:bob" && e.Details["reason"] == "mcp_session_of_another_principal" {
			bobs++
		}
	}
	if bobs != 3 {
		t.Errorf("%d suspicious_activity events for bob, want 3 (POST, GET, DELETE)", bobs)
	}

	// Still Alice's: the refusals did not disturb her session.
	if r := post(t, g, testenv.FilesPath, alice, echoCall, withSession(sid)); r.Status != http.StatusOK {
		t.Fatalf("alice after the attempts: %d %s", r.Status, r.Body)
	}
	// A new session gets a new ID.
	if again := initSession(t, g, testenv.FilesPath, alice); again == sid {
		t.Fatal("a second initialize returned the first session's ID")
	}
	// Alice ends her session; the upstream forgets it.
	if r := call(t, g, http.MethodDelete, testenv.FilesPath, alice, "", withSession(sid)); r.Status != http.StatusNoContent && r.Status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if r := post(t, g, testenv.FilesPath, alice, echoCall, withSession(sid)); r.Status != http.StatusNotFound {
		t.Fatalf("after DELETE: %d %s, want 404 from the upstream", r.Status, r.Body)
	}
}

// TestSessionSurvivesRestart: the binding is sealed into the ID, so a new
// instance with the same keys (or another replica) honours it without
// shared session state (SPEC PX-9: holds across instances).
func TestSessionSurvivesRestart(t *testing.T) {
	t.Parallel()
	up, _ := newDemoUpstream(t)
	g := gateway(t, up.URL, nil)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
	sid := initSession(t, g, testenv.FilesPath, alice)
	g.Close()
	g2 := g.Restart(t, testenv.Options{})
	if r := post(t, g2, testenv.FilesPath, alice, echoCall, withSession(sid)); r.Status != http.StatusOK {
		t.Fatalf("alice's session on the new instance: %d %s", r.Status, r.Body)
	}
	requireRPCError(t, post(t, g2, testenv.FilesPath, bob, echoCall, withSession(sid)), http.StatusNotFound, -32004)
}

// TestTwoSessionHeaders: two Mcp-Session-Id headers are refused, not
// resolved by picking one.
func TestTwoSessionHeaders(t *testing.T) {
	t.Parallel()
	up, spy := newDemoUpstream(t)
	g := gateway(t, up.URL, nil)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	sid := initSession(t, g, testenv.FilesPath, alice)
	before := spy.requests()
	r := post(t, g, testenv.FilesPath, alice, echoCall, func(r *http.Request) {
		r.Header.Add("Mcp-Session-Id", sid)
		r.Header.Add("Mcp-Session-Id", sid)
	})
	requireRPCError(t, r, http.StatusBadRequest, -32004)
	if spy.requests() != before {
		t.Fatal("forwarded a request with two session IDs")
	}
}

// tamper flips one character in the middle of a sealed ID.
func tamper(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
