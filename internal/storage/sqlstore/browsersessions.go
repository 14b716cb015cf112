package sqlstore

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var browserSessions = record[storage.BrowserSession]{
	what: "browser session", table: "browser_sessions", key: []string{"id"},
	cols: []string{"id", "subject", "provider_id", "email", "email_verified", "name", "group_names",
		"user_agent_hash", "ip_prefix", "auth_time", "created_at", "last_seen_at",
		"idle_expires_at", "expires_at"},
	args: func(b storage.BrowserSession) []any {
		return []any{b.ID, b.Subject, b.ProviderID, b.Email, b.EmailVerified, b.Name, jsonText(b.Groups),
			b.UserAgentHash, b.IPPrefix, nanos(b.AuthTime), nanos(b.CreatedAt), nanos(b.LastSeenAt),
			nanos(b.IdleExpiresAt), nanos(b.ExpiresAt)}
	},
	scan: func(sc scanner) (b storage.BrowserSession, err error) {
		err = sc.Scan(&b.ID, &b.Subject, &b.ProviderID, &b.Email, boolCol{&b.EmailVerified}, &b.Name,
			jsonCol{&b.Groups}, blobCol{&b.UserAgentHash}, &b.IPPrefix, timeCol{&b.AuthTime},
			timeCol{&b.CreatedAt}, timeCol{&b.LastSeenAt}, timeCol{&b.IdleExpiresAt}, timeCol{&b.ExpiresAt})
		return b, err
	},
}

// CreateBrowserSession stores b; ErrAlreadyExists if its ID is taken. IDs
// are cookie hashes, so they are kept out of error messages.
func (s *Store) CreateBrowserSession(ctx context.Context, b storage.BrowserSession) error {
	return browserSessions.create(ctx, s, s.w, b)
}

// GetBrowserSession returns the session with the given ID.
func (s *Store) GetBrowserSession(ctx context.Context, id string) (storage.BrowserSession, error) {
	return browserSessions.get(ctx, s, id)
}

// UpdateBrowserSession replaces the session with fn's result
// (compare-and-swap).
func (s *Store) UpdateBrowserSession(ctx context.Context, id string, fn func(storage.BrowserSession) (storage.BrowserSession, error)) error {
	return browserSessions.update(ctx, s, fn, id)
}

// DeleteBrowserSession deletes the session with the given ID.
func (s *Store) DeleteBrowserSession(ctx context.Context, id string) error {
	return browserSessions.delete(ctx, s, id)
}

// ListBrowserSessions lists subject's sessions ("" for everyone's), oldest
// first.
func (s *Store) ListBrowserSessions(ctx context.Context, subject string) ([]storage.BrowserSession, error) {
	w := new(filter).eq("subject", subject)
	return browserSessions.find(ctx, s, w.sql(), "created_at, id", w.args...)
}

// DeleteBrowserSessions deletes all of subject's sessions and returns how
// many. An empty subject is refused: a kill switch called with a blank user
// must not log everyone out.
func (s *Store) DeleteBrowserSessions(ctx context.Context, subject string) (int, error) {
	if err := storage.CheckSubject("delete browser sessions", subject); err != nil {
		return 0, err
	}
	n, err := s.exec(ctx, s.w, "DELETE FROM browser_sessions WHERE "+
		s.d.keyOrdered(browserSessions.table, browserSessions.key, "subject = ?"), subject)
	return n, s.wrap("delete browser sessions", err)
}
