package session

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/clientip"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Defaults for Options (SPEC SE-1).
const (
	DefaultIdleTimeout     = 8 * time.Hour
	DefaultAbsoluteTimeout = 24 * time.Hour
	DefaultMaxPerUser      = 5
)

// touchEvery bounds how often Current writes LastSeenAt: once a minute per
// session at most, so browsing costs reads, not a write per request. The
// idle timeout is therefore exact to within a minute.
const touchEvery = time.Minute

// Reasons a session ends, as audited in session_terminated's "reason".
const (
	reasonExpired   = "expired"
	reasonIdle      = "idle_timeout"
	reasonUserAgent = "user_agent_mismatch"
	reasonIPPrefix  = "ip_prefix_mismatch"
	reasonLogout    = "logout"
	reasonReplaced  = "replaced" // a new login in the same browser
	reasonEvicted   = "evicted"  // beyond MaxPerUser
	reasonRevoked   = "revoked"  // kill switch
)

// riskUserAgent scores a session presented by another client: possibly a
// stolen cookie, though a browser update looks the same (SPEC AU-1).
const riskUserAgent = 50

// ErrInvalid reports a call this package refuses before touching the
// store: a caller bug, such as a session without a subject.
var ErrInvalid = errors.New("session: invalid argument")

// Options configures a Manager. Zero values take the documented defaults.
type Options struct {
	Store storage.BrowserSessionStore
	// Secure is true when public_url is https: cookies are then named
	// __Host-… and marked Secure. False only for an http loopback
	// public_url (SPEC HD-3); see the cookie names for why.
	Secure bool
	// IdleTimeout ends a session not used for this long (default 8h).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after login, however busy
	// (default 24h). It is also the session cookie's Max-Age.
	AbsoluteTimeout time.Duration
	// MaxPerUser bounds a user's concurrent sessions; Login evicts the
	// oldest beyond it (default 5).
	MaxPerUser int
	// BindUserAgent rejects a session presented with another User-Agent
	// than the one it logged in with.
	BindUserAgent bool
	// BindIPPrefix rejects a session presented from another network than
	// the one it logged in from: the client address's /24 (IPv4) or /64
	// (IPv6), as ClientIP reports it.
	BindIPPrefix bool
	// ClientIP is the request's client address (default clientip.From,
	// which honours trusted_proxies).
	ClientIP func(*http.Request) string
	Now      func() time.Time // default time.Now
	// Audit receives session_created and session_terminated; may be nil.
	Audit func(ctx context.Context, e audit.Event)
}

// Manager issues, validates and ends browser sessions (SPEC SE-1) and binds
// authorization flows to browsers. It is safe for concurrent use; all
// state lives in the store.
type Manager struct {
	o                     Options
	sessionName, flowName string
}

// New returns a Manager after applying defaults.
func New(o Options) (*Manager, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalid)
	}
	if o.IdleTimeout < 0 || o.AbsoluteTimeout < 0 || o.MaxPerUser < 0 {
		return nil, fmt.Errorf("%w: negative timeout or session limit", ErrInvalid)
	}
	o.IdleTimeout = cmp.Or(o.IdleTimeout, DefaultIdleTimeout)
	o.AbsoluteTimeout = cmp.Or(o.AbsoluteTimeout, DefaultAbsoluteTimeout)
	o.MaxPerUser = cmp.Or(o.MaxPerUser, DefaultMaxPerUser)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ClientIP == nil {
		o.ClientIP = clientip.From
	}
	m := &Manager{o: o}
	m.sessionName, m.flowName = cookieNames(o.Secure)
	return m, nil
}

// Current returns the live session the request's cookie names. It fails
// closed: no cookie, an unknown or malformed one, an expired or unbound
// session, or any store error all give false. An expired or mismatched
// session is deleted, so the cookie is dead for good.
func (m *Manager) Current(r *http.Request) (storage.BrowserSession, bool) {
	ctx := r.Context()
	v := requestCookie(r, m.sessionName)
	if !wellFormed(v) {
		return storage.BrowserSession{}, false
	}
	s, err := m.o.Store.GetBrowserSession(ctx, sessionID(v))
	if err != nil {
		return storage.BrowserSession{}, false
	}
	now := m.o.Now()
	if reason := m.invalid(s, r, now); reason != "" {
		m.end(ctx, s, reason)
		return storage.BrowserSession{}, false
	}
	return m.touch(ctx, s, now)
}

// invalid returns why s may not be used for r at now, or "". A session
// expires strictly after its deadline, as storage records do; a zero
// deadline is not "never" here: every session this package writes has
// both, so a record without one is not ours to honour.
func (m *Manager) invalid(s storage.BrowserSession, r *http.Request, now time.Time) string {
	switch {
	case s.ExpiresAt.IsZero() || now.After(s.ExpiresAt):
		return reasonExpired
	case s.IdleExpiresAt.IsZero() || now.After(s.IdleExpiresAt):
		return reasonIdle
	case m.o.BindUserAgent && !sameUserAgent(s, r):
		return reasonUserAgent
	case m.o.BindIPPrefix && s.IPPrefix != ipPrefix(m.o.ClientIP(r)):
		return reasonIPPrefix
	}
	return ""
}

// sameUserAgent compares the User-Agent the session logged in with to the
// one presenting it. A stolen cookie replayed from another client (malware
// exfiltrating the cookie store, a leaked HAR file) usually carries another
// User-Agent; this is a speed bump, not proof, as an attacker can copy the
// header. Constant time, as for every comparison against a stored hash.
func sameUserAgent(s storage.BrowserSession, r *http.Request) bool {
	return subtle.ConstantTimeCompare(s.UserAgentHash, digest(r.UserAgent())) == 1
}

// ipPrefix is the network a client address belongs to, for session
// binding: the /24 of an IPv4 address, the /64 of an IPv6 one (mobile and
// dual-stack clients move within those without changing network). A
// cookie replayed from elsewhere usually comes from another prefix; like
// the User-Agent check this is a speed bump, not proof. "" for no address.
func ipPrefix(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// touch slides the idle deadline, writing at most once per touchEvery. The
// update is compare-and-swap: a concurrent request that already touched
// the record, or deleted it (logout, kill switch), wins.
func (m *Manager) touch(ctx context.Context, s storage.BrowserSession, now time.Time) (storage.BrowserSession, bool) {
	if now.Sub(s.LastSeenAt) < touchEvery {
		return s, true
	}
	var out storage.BrowserSession
	err := m.o.Store.UpdateBrowserSession(ctx, s.ID, func(old storage.BrowserSession) (storage.BrowserSession, error) {
		if now.Sub(old.LastSeenAt) >= touchEvery {
			old.LastSeenAt = now
			old.IdleExpiresAt = now.Add(m.o.IdleTimeout)
		}
		out = old
		return old, nil
	})
	if err != nil {
		return storage.BrowserSession{}, false
	}
	return out, true
}

// end deletes s and records why. Only the caller whose delete succeeded
// audits, so two racing requests do not report one session twice.
func (m *Manager) end(ctx context.Context, s storage.BrowserSession, reason string) {
	if err := m.o.Store.DeleteBrowserSession(ctx, s.ID); err != nil {
		return
	}
	m.terminated(ctx, s, reason)
}

func (m *Manager) terminated(ctx context.Context, s storage.BrowserSession, reason string) {
	e := audit.Event{
		Type: audit.SessionTerminated, User: s.Subject, Session: s.ID,
		Provider: s.ProviderID, Details: map[string]any{"reason": reason},
	}
	if reason == reasonUserAgent || reason == reasonIPPrefix {
		e.Risk = riskUserAgent
	}
	m.audit(ctx, e)
}

func (m *Manager) audit(ctx context.Context, e audit.Event) {
	if m.o.Audit != nil {
		m.o.Audit(ctx, e)
	}
}
