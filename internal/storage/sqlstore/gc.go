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

// gcStep is one statement of GarbageCollect.
type gcStep struct {
	n     *int
	verb  string // "DELETE FROM t" or "UPDATE t SET ..."
	table string
	key   []string
	where string
}

// GarbageCollect deletes every record that expired before now, one DELETE
// per table, and wipes the sealed successors whose grace window has ended
// (SPEC AS-6: the sealed copy of a live credential must not linger at
// rest; the token row stays, reuse detection needs it). Each statement
// commits on its own, so a long collection never holds the write lock for
// long; a failure returns what was done so far.
func (s *Store) GarbageCollect(ctx context.Context, now time.Time) (storage.GCResult, error) {
	var r storage.GCResult
	id := []string{"id"}
	del := func(n *int, table string, key []string, where string) gcStep {
		return gcStep{n, "DELETE FROM " + table, table, key, where}
	}
	steps := []gcStep{
		del(&r.AuthRequests, "auth_requests", id, expired("expires_at")),
		del(&r.AuthCodes, "auth_codes", authCodes.key, expired("expires_at")),
		// Tokens first, so a token wiped below is one that stays.
		del(&r.RefreshTokens, "refresh_tokens", id, expired("expires_at")),
		del(&r.RefreshFamilies, "refresh_families", id, expired("expires_at")),
		del(&r.Consents, "consents", consents.key, expired("expires_at")),
		// SPEC SE-1: a browser session ends at its absolute or idle expiry.
		del(&r.BrowserSessions, "browser_sessions", id, expired("expires_at")+" OR "+expired("idle_expires_at")),
		del(&r.Clients, "clients", id, expired("expires_at")),
		del(&r.SigningKeys, "signing_keys", id, expired("expires_at")),
		del(&r.Revocations, "revocations", revocations.key, expired("expires_at")),
		del(&r.MCPSessions, "mcp_sessions", id, expired("expires_at")),
		del(&r.Leases, "leases", []string{"name"}, expired("expires_at")),
		// A zero GraceUntil is read as "no grace window", not "forever":
		// a sealed copy of a live credential must not linger at rest for
		// want of a deadline. An empty copy is no copy and is not counted.
		{&r.SuccessorsWiped, "UPDATE refresh_tokens SET successor_sealed = NULL", "refresh_tokens", id,
			"successor_sealed IS NOT NULL AND length(successor_sealed) > 0 AND (grace_until = 0 OR grace_until < ?)"},
	}
	t := nanos(now)
	for _, st := range steps {
		args := make([]any, strings.Count(st.where, "?"))
		for i := range args {
			args[i] = t
		}
		n, err := s.exec(ctx, s.w, st.verb+" WHERE "+s.d.keyOrdered(st.table, st.key, st.where), args...)
		if err != nil {
			return r, s.wrap("garbage collect "+st.table, err)
		}
		*st.n = n
	}
	return r, nil
}
