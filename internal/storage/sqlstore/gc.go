package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// expired is the condition for a record whose expiry column is col: a zero
// expiry never expires, and one exactly at now has not expired yet. The
// "<> 0" term also lets the planner use the partial expiry indexes.
func expired(col string) string { return "(" + col + " <> 0 AND " + col + " < ?)" }

// GarbageCollect deletes every record that expired before now, one DELETE
// per table, and wipes the sealed successors whose grace window has ended
// (SPEC AS-6: the sealed copy of a live credential must not linger at
// rest; the token row stays, reuse detection needs it). Each statement
// commits on its own, so a long collection never holds the write lock for
// long; a failure returns what was done so far.
func (s *Store) GarbageCollect(ctx context.Context, now time.Time) (storage.GCResult, error) {
	var r storage.GCResult
	steps := []struct {
		n     *int
		query string
	}{
		{&r.AuthRequests, "DELETE FROM auth_requests WHERE " + expired("expires_at")},
		{&r.AuthCodes, "DELETE FROM auth_codes WHERE " + expired("expires_at")},
		// Tokens first, so a token wiped below is one that stays.
		{&r.RefreshTokens, "DELETE FROM refresh_tokens WHERE " + expired("expires_at")},
		{&r.RefreshFamilies, "DELETE FROM refresh_families WHERE " + expired("expires_at")},
		{&r.Consents, "DELETE FROM consents WHERE " + expired("expires_at")},
		// SPEC SE-1: a browser session ends at its absolute or idle expiry.
		{&r.BrowserSessions, "DELETE FROM browser_sessions WHERE " + expired("expires_at") +
			" OR " + expired("idle_expires_at")},
		{&r.Clients, "DELETE FROM clients WHERE " + expired("expires_at")},
		{&r.SigningKeys, "DELETE FROM signing_keys WHERE " + expired("expires_at")},
		{&r.Revocations, "DELETE FROM revocations WHERE " + expired("expires_at")},
		{&r.MCPSessions, "DELETE FROM mcp_sessions WHERE " + expired("expires_at")},
		{&r.Leases, "DELETE FROM leases WHERE " + expired("expires_at")},
		// A zero GraceUntil means no grace window at all.
		{&r.SuccessorsWiped, "UPDATE refresh_tokens SET successor_sealed = NULL" +
			" WHERE successor_sealed IS NOT NULL AND grace_until < ?"},
	}
	t := nanos(now)
	for _, st := range steps {
		args := make([]any, strings.Count(st.query, "?"))
		for i := range args {
			args[i] = t
		}
		n, err := s.exec(ctx, s.w, st.query, args...)
		if err != nil {
			return r, s.wrap("garbage collect", err)
		}
		*st.n = n
	}
	return r, nil
}
