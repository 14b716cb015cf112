package oauth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// forwardedFor makes every request of a browser arrive through a proxy
// that reports the given client address.
type forwardedFor struct {
	next http.RoundTripper
	addr string
}

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return f.next.RoundTrip(r)
}

func browserFrom(g *testenv.Gateway, addr string) *testenv.Browser {
	b := g.NewBrowser()
	b.Client.Transport = forwardedFor{next: b.Client.Transport, addr: addr}
	return b
}

// failLogins makes n failed logins for fresh usernames (so only the
// per-IP counter can lock) from b.
func failLogins(t *testing.T, g *testenv.Gateway, b *testenv.Browser, n int) {
	t.Helper()
	for i := range n {
		id := b.StartFlow(g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", g.Resource(testenv.FilesPath), testenv.NewPKCE()))
		b.SubmitConsent(id, "approve")
		b.SubmitLogin(id, fmt.Sprintf("nobody-%d", i), "wrong")
	}
}

// Behind a trusted proxy, login throttling locks the client's address
// from X-Forwarded-For, not the proxy's: one attacker cannot lock every
// user out by locking the proxy (SPEC HD-1, ID-4), and the audit records
// the client's address.
func TestLoginThrottleUsesForwardedClientBehindTrustedProxy(t *testing.T) {
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} }})
	attacker := browserFrom(g, "198.51.100.66")
	failLogins(t, g, attacker, 5)

	// The attacker's address is locked: even alice's right password fails from it.
	id := attacker.StartFlow(g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", g.Resource(testenv.FilesPath), testenv.NewPKCE()))
	attacker.SubmitConsent(id, "approve")
	if loc := attacker.SubmitLogin(id, testenv.Alice, testenv.Password).Location(); loc == nil || loc.Path != "/oauth/login" {
		t.Fatalf("a locked address signed in: %v", loc)
	}
	// Another client behind the same proxy is not.
	victim := browserFrom(g, "203.0.113.10")
	if tok := g.Login(victim, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice); tok["access_token"] == nil {
		t.Fatal("a different client address behind the same proxy was locked out")
	}
	if !auditHasIP(g, "login_failed", "198.51.100.66") {
		t.Fatalf("login_failed not recorded with the forwarded client address:\n%s", g.Audit.String())
	}
}

// Without trusted_proxies, X-Forwarded-For is a client's own claim and is
// ignored: spoofing a new address per attempt does not reset the per-IP
// lock.
func TestLoginThrottleIgnoresForwardedForFromUntrustedPeer(t *testing.T) {
	g := testenv.New(t, testenv.Options{})
	for i := range 5 {
		failLogins(t, g, browserFrom(g, fmt.Sprintf("198.51.100.%d", i+1)), 1)
	}
	b := browserFrom(g, "203.0.113.10")
	id := b.StartFlow(g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", g.Resource(testenv.FilesPath), testenv.NewPKCE()))
	b.SubmitConsent(id, "approve")
	if loc := b.SubmitLogin(id, testenv.Alice, testenv.Password).Location(); loc == nil || loc.Path != "/oauth/login" {
		t.Fatalf("spoofed X-Forwarded-For escaped the per-IP lock: %v", loc)
	}
	if auditHasIP(g, "login_failed", "198.51.100.1") {
		t.Fatal("an untrusted X-Forwarded-For reached the audit log")
	}
}

func auditHasIP(g *testenv.Gateway, eventType, ip string) bool {
	for _, line := range strings.Split(g.Audit.String(), "\n") {
		var e struct {
			Type string `json:"type"`
			IP   string `json:"ip"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Type == eventType && e.IP == ip {
			return true
		}
	}
	return false
}

// SPEC SE-1: with sessions.bind_ip_prefix, a browser session is refused
// from another network (resolved through trusted_proxies); the next flow
// asks for the login again.
func TestSessionBoundToIPPrefix(t *testing.T) {
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.Sessions.BindIPPrefix = true
	}})
	b := browserFrom(g, "198.51.100.5")
	g.Login(b, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
	params := g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", g.Resource(testenv.FilesPath), testenv.NewPKCE())

	b.Client.Transport = forwardedFor{next: g.Client().Transport, addr: "198.51.100.77"} // same /24
	id := b.StartFlow(params)
	if loc := b.Get("/oauth/consent?req=" + id).Location(); loc == nil || loc.Query().Get("code") == "" {
		t.Fatal("the session was refused from its own /24")
	}
	b.Client.Transport = forwardedFor{next: g.Client().Transport, addr: "203.0.113.9"} // elsewhere
	id = b.StartFlow(params)
	if loc := b.Get("/oauth/consent?req=" + id).Location(); loc != nil && loc.Query().Get("code") != "" {
		t.Fatal("the session was accepted from another network")
	}
	if next := b.SubmitConsent(id, "approve").Location(); next == nil || next.Path != "/oauth/login" {
		t.Fatalf("after approving from another network, went to %v; want the login form", next)
	}
}
