package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Login starts a session for the identity in s (Subject, ProviderID, Email,
// Name, Groups, AuthTime are kept; AuthTime defaults to now) and sets its
// cookie. Every ID and time field of s, and the bindings, are overwritten.
//
// Session fixation (OWASP ASVS V3.2.1): an attacker who plants a cookie
// value in the victim's browser before login must not find it authenticated
// afterwards. So the session ID is always fresh, never the one the request
// carried, and the record behind a carried cookie is deleted outright.
func (m *Manager) Login(ctx context.Context, w http.ResponseWriter, r *http.Request, s storage.BrowserSession) (storage.BrowserSession, error) {
	if s.Subject == "" {
		return storage.BrowserSession{}, fmt.Errorf("%w: session without subject", ErrInvalid)
	}
	if err := m.dropCarried(ctx, r); err != nil {
		return storage.BrowserSession{}, err
	}
	value := newSecret()
	s = m.fresh(s, sessionID(value), r)
	if err := m.o.Store.CreateBrowserSession(ctx, s); err != nil {
		return storage.BrowserSession{}, fmt.Errorf("session: create: %w", err)
	}
	m.audit(ctx, audit.Event{
		Type: audit.SessionCreated, User: s.Subject, Session: s.ID,
		Provider: s.ProviderID, UserAgent: r.UserAgent(),
	})
	// The new session exists before any is evicted: a failed create must
	// not have logged the user out elsewhere.
	if err := m.evict(ctx, s); err != nil {
		return storage.BrowserSession{}, err
	}
	http.SetCookie(w, newCookie(m.sessionName, value, m.o.AbsoluteTimeout, m.o.Secure))
	return s, nil
}

// fresh fills in the fields Login owns.
func (m *Manager) fresh(s storage.BrowserSession, id string, r *http.Request) storage.BrowserSession {
	now := m.o.Now()
	s.ID = id
	s.Groups = slices.Clone(s.Groups)
	s.UserAgentHash = nil
	if m.o.BindUserAgent {
		s.UserAgentHash = digest(r.UserAgent())
	}
	s.IPPrefix = ""
	if m.o.BindIPPrefix {
		s.IPPrefix = ipPrefix(m.o.ClientIP(r))
	}
	if s.AuthTime.IsZero() {
		s.AuthTime = now
	}
	s.CreatedAt, s.LastSeenAt = now, now
	s.IdleExpiresAt = now.Add(m.o.IdleTimeout)
	s.ExpiresAt = now.Add(m.o.AbsoluteTimeout)
	return s
}

// dropCarried deletes the session behind the request's cookie, if any.
func (m *Manager) dropCarried(ctx context.Context, r *http.Request) error {
	v := requestCookie(r, m.sessionName)
	if !wellFormed(v) {
		return nil
	}
	old, err := m.o.Store.GetBrowserSession(ctx, sessionID(v))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("session: look up carried session: %w", err)
	}
	return m.remove(ctx, old, reasonReplaced)
}

// evict enforces MaxPerUser (SPEC SE-1): the user's oldest sessions beyond
// the limit end, so a stolen-then-forgotten session does not live forever
// beside the real ones and a script cannot mint unbounded records. The
// session just created is never a victim, even if a clock tie sorts it
// before an older one.
func (m *Manager) evict(ctx context.Context, keep storage.BrowserSession) error {
	all, err := m.o.Store.ListBrowserSessions(ctx, keep.Subject)
	if err != nil {
		return fmt.Errorf("session: list for eviction: %w", err)
	}
	all = slices.DeleteFunc(all, func(s storage.BrowserSession) bool { return s.ID == keep.ID })
	excess := len(all) + 1 - m.o.MaxPerUser
	for _, s := range all[:max(excess, 0)] {
		if err := m.remove(ctx, s, reasonEvicted); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes one session and audits it; a session already gone (a
// racing logout) is not an error and is not audited twice.
func (m *Manager) remove(ctx context.Context, s storage.BrowserSession, reason string) error {
	err := m.o.Store.DeleteBrowserSession(ctx, s.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("session: delete: %w", err)
	}
	m.terminated(ctx, s, reason)
	return nil
}

// Logout ends the request's session, if any, and always clears the cookie
// (Max-Age 0), so a browser holding a dead value stops sending it.
func (m *Manager) Logout(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, newCookie(m.sessionName, "", -1, m.o.Secure))
	v := requestCookie(r, m.sessionName)
	if !wellFormed(v) {
		return nil
	}
	s, err := m.o.Store.GetBrowserSession(ctx, sessionID(v))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("session: look up for logout: %w", err)
	}
	return m.remove(ctx, s, reasonLogout)
}

// RevokeUser ends every session of subject (the kill switch, `mcpgate
// sessions revoke --user`) and returns how many there were. An empty
// subject is refused: it must never log everyone out.
func (m *Manager) RevokeUser(ctx context.Context, subject string) (int, error) {
	if subject == "" {
		return 0, fmt.Errorf("%w: empty subject", ErrInvalid)
	}
	n, err := m.o.Store.DeleteBrowserSessions(ctx, subject)
	if err != nil {
		return 0, fmt.Errorf("session: revoke user: %w", err)
	}
	m.audit(ctx, audit.Event{
		Type: audit.SessionTerminated, User: subject,
		Details: map[string]any{"reason": reasonRevoked, "count": n},
	})
	return n, nil
}
