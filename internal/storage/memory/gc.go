package memory

import (
	"context"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// GarbageCollect deletes what has expired at now and wipes sealed refresh
// successors whose grace window has ended (SPEC AS-6: the sealed copy of a
// live credential is kept no longer than the window needs). A zero
// GraceUntil is no window at all, not an endless one. A browser session
// ends at its absolute or its idle expiry (SPEC SE-1). Upstream tokens are
// left alone: their ExpiresAt is the upstream access token's, and the sealed
// refresh token inside usually outlives it. The audit chain is PruneAudit's.
func (s *Store) GarbageCollect(_ context.Context, now time.Time) (storage.GCResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r storage.GCResult
	r.Clients = sweep(s.clients, func(c storage.Client) bool { return expired(c.ExpiresAt, now) })
	r.AuthRequests = sweep(s.authRequests, func(a storage.AuthRequest) bool { return expired(a.ExpiresAt, now) })
	r.AuthCodes = sweep(s.authCodes, func(c storage.AuthCode) bool { return expired(c.ExpiresAt, now) })
	r.RefreshFamilies = sweep(s.families, func(f storage.RefreshFamily) bool { return expired(f.ExpiresAt, now) })
	r.RefreshTokens = sweep(s.tokens, func(t storage.RefreshToken) bool { return expired(t.ExpiresAt, now) })
	r.Consents = sweep(s.consents, func(c storage.Consent) bool { return expired(c.ExpiresAt, now) })
	r.BrowserSessions = sweep(s.browserSessions, func(b storage.BrowserSession) bool {
		return expired(b.ExpiresAt, now) || expired(b.IdleExpiresAt, now)
	})
	r.SigningKeys = sweep(s.signingKeys, func(k storage.SigningKey) bool { return expired(k.ExpiresAt, now) })
	r.Revocations = sweep(s.revocations, func(v storage.Revocation) bool { return expired(v.ExpiresAt, now) })
	r.MCPSessions = sweep(s.mcpSessions, func(m storage.MCPSession) bool { return expired(m.ExpiresAt, now) })
	r.Leases = sweep(s.leases, func(l storage.Lease) bool { return expired(l.ExpiresAt, now) })

	for id, t := range s.tokens {
		if len(t.SuccessorSealed) > 0 && (t.GraceUntil.IsZero() || t.GraceUntil.Before(now)) {
			t.SuccessorSealed = nil
			s.tokens[id] = t
			r.SuccessorsWiped++
		}
	}
	return r, nil
}

// sweep deletes the records of m for which dead is true and counts them.
func sweep[K comparable, T any](m map[K]T, dead func(T) bool) int {
	n := 0
	for k, v := range m {
		if dead(v) {
			delete(m, k)
			n++
		}
	}
	return n
}
