package sqlstore

import (
	"context"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var revocations = record[storage.Revocation]{
	what: "revocation", table: "revocations", key: []string{"kind", "rev_key"},
	cols: []string{"kind", "rev_key", "reason", "not_before", "created_at", "expires_at"},
	args: func(r storage.Revocation) []any {
		return []any{string(r.Kind), r.Key, r.Reason, nanos(r.NotBefore), nanos(r.CreatedAt), nanos(r.ExpiresAt)}
	},
	scan: func(sc scanner) (r storage.Revocation, err error) {
		err = sc.Scan((*string)(&r.Kind), &r.Key, &r.Reason, timeCol{&r.NotBefore}, timeCol{&r.CreatedAt},
			timeCol{&r.ExpiresAt})
		return r, err
	},
}

// AddRevocation records r, replacing any entry with the same kind and key
// (a newer user epoch supersedes an older one).
func (s *Store) AddRevocation(ctx context.Context, r storage.Revocation) error {
	return revocations.put(ctx, s, r)
}

// ListRevocations lists entries created at or after since, oldest first.
func (s *Store) ListRevocations(ctx context.Context, since time.Time) ([]storage.Revocation, error) {
	return revocations.find(ctx, s, "created_at >= ?", "created_at, kind, rev_key", nanos(since))
}
