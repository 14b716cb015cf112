package sqlstore

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var upstreamTokens = record[storage.UpstreamToken]{
	what: "upstream token", table: "upstream_tokens", key: []string{"subject", "provider_id"},
	cols: []string{"subject", "provider_id", "config_hash", "sealed", "expires_at", "updated_at"},
	args: func(t storage.UpstreamToken) []any {
		return []any{t.Subject, t.ProviderID, t.ConfigHash, t.Sealed, nanos(t.ExpiresAt), nanos(t.UpdatedAt)}
	},
	scan: func(sc scanner) (t storage.UpstreamToken, err error) {
		err = sc.Scan(&t.Subject, &t.ProviderID, blobCol{&t.ConfigHash}, blobCol{&t.Sealed},
			timeCol{&t.ExpiresAt}, timeCol{&t.UpdatedAt})
		return t, err
	},
}

// PutUpstreamToken creates t or replaces the token with its key.
func (s *Store) PutUpstreamToken(ctx context.Context, t storage.UpstreamToken) error {
	return upstreamTokens.put(ctx, s, t)
}

// GetUpstreamToken returns subject's token at providerID.
func (s *Store) GetUpstreamToken(ctx context.Context, subject, providerID string) (storage.UpstreamToken, error) {
	return upstreamTokens.get(ctx, s, subject, providerID)
}

// UpdateUpstreamToken replaces the token with fn's result (compare-and-swap).
func (s *Store) UpdateUpstreamToken(ctx context.Context, subject, providerID string, fn func(storage.UpstreamToken) (storage.UpstreamToken, error)) error {
	return upstreamTokens.update(ctx, s, fn, subject, providerID)
}

// DeleteUpstreamTokens deletes all of subject's upstream tokens and returns
// how many. An empty subject is refused, as in DeleteBrowserSessions.
func (s *Store) DeleteUpstreamTokens(ctx context.Context, subject string) (int, error) {
	if err := storage.CheckSubject("delete upstream tokens", subject); err != nil {
		return 0, err
	}
	n, err := s.exec(ctx, s.w, "DELETE FROM upstream_tokens WHERE "+
		s.d.keyOrdered(upstreamTokens.table, upstreamTokens.key, "subject = ?"), subject)
	return n, s.wrap("delete upstream tokens", err)
}
