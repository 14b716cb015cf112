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

// AddRevocation records r, or what storage.Revocation.Supersede makes of
// it over the entry with the same kind and key, in one statement: two kill
// switches landing out of order must move neither a user's epoch
// (not_before) nor the entry's expiry back. The merge is done by the
// database, so concurrent writers on several instances cannot interleave a
// read and a write. In the encoding 0 is "not set" for not_before (the
// earliest) and "never" for expires_at (the latest), hence the CASEs: a
// plain GREATEST would get a negative (pre-1970) time against 0 wrong, and
// would let a finite expiry replace "never".
func (s *Store) AddRevocation(ctx context.Context, r storage.Revocation) error {
	g := s.d.greatest
	query := revocations.insertSQL() + ` ON CONFLICT (kind, rev_key) DO UPDATE SET
		reason = excluded.reason,
		created_at = excluded.created_at,
		not_before = CASE
			WHEN revocations.not_before = 0 THEN excluded.not_before
			WHEN excluded.not_before = 0 THEN revocations.not_before
			ELSE ` + g + `(revocations.not_before, excluded.not_before) END,
		expires_at = CASE
			WHEN revocations.expires_at = 0 OR excluded.expires_at = 0 THEN 0
			ELSE ` + g + `(revocations.expires_at, excluded.expires_at) END`
	_, err := s.exec(ctx, s.w, query, revocations.args(r)...)
	return s.wrap("add revocation", err)
}

// ListRevocations lists entries created at or after since, oldest first.
func (s *Store) ListRevocations(ctx context.Context, since time.Time) ([]storage.Revocation, error) {
	return revocations.find(ctx, s, "created_at >= ?", "created_at, kind, rev_key", nanos(since))
}
