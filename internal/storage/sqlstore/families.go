package sqlstore

import (
	"context"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var families = record[storage.RefreshFamily]{
	what: "refresh family", table: "refresh_families", key: []string{"id"},
	cols: []string{"id", "client_id", "subject", "provider_id", "resource", "scopes", "group_names", "email",
		"email_verified", "auth_time", "created_at", "last_used_at", "expires_at", "user_checked_at", "revoked_at",
		"revoke_reason"},
	args: func(f storage.RefreshFamily) []any {
		return []any{f.ID, f.ClientID, f.Subject, f.ProviderID, f.Resource, jsonText(f.Scopes), jsonText(f.Groups),
			f.Email, f.EmailVerified, nanos(f.AuthTime), nanos(f.CreatedAt), nanos(f.LastUsedAt), nanos(f.ExpiresAt),
			nanos(f.UserCheckedAt), nanos(f.RevokedAt), f.RevokeReason}
	},
	scan: func(sc scanner) (f storage.RefreshFamily, err error) {
		err = sc.Scan(&f.ID, &f.ClientID, &f.Subject, &f.ProviderID, &f.Resource, jsonCol{&f.Scopes},
			jsonCol{&f.Groups}, &f.Email, boolCol{&f.EmailVerified}, timeCol{&f.AuthTime}, timeCol{&f.CreatedAt},
			timeCol{&f.LastUsedAt}, timeCol{&f.ExpiresAt}, timeCol{&f.UserCheckedAt}, timeCol{&f.RevokedAt},
			&f.RevokeReason)
		return f, err
	},
}

// CreateRefreshFamily stores f and its first token in one transaction, so
// neither exists without the other.
func (s *Store) CreateRefreshFamily(ctx context.Context, f storage.RefreshFamily, first storage.RefreshToken) error {
	return s.inTx(ctx, func(tx *txn) error {
		if err := families.create(ctx, s, tx, f); err != nil {
			return err
		}
		return tokens.create(ctx, s, tx, first)
	})
}

// GetRefreshFamily returns the family with the given ID.
func (s *Store) GetRefreshFamily(ctx context.Context, id string) (storage.RefreshFamily, error) {
	return families.get(ctx, s, id)
}

// UpdateRefreshFamily replaces the family with fn's result (compare-and-swap),
// less what storage.RefreshFamily.KeepFixed keeps: fn can neither move the
// grant nor undo its revocation.
func (s *Store) UpdateRefreshFamily(ctx context.Context, id string, fn func(storage.RefreshFamily) (storage.RefreshFamily, error)) error {
	return families.update(ctx, s, func(old storage.RefreshFamily) (storage.RefreshFamily, error) {
		next, err := fn(old) // old is a copy: fn cannot reach the fixed fields through it
		if err != nil {
			return next, err
		}
		return old.KeepFixed(next), nil
	}, id)
}

// familyFilter turns a filter into a WHERE clause.
func familyFilter(f storage.FamilyFilter) *filter {
	w := new(filter).eq("subject", f.Subject).eq("client_id", f.ClientID)
	if !f.IncludeRevoked {
		w.and("revoked_at = 0")
	}
	return w
}

// ListRefreshFamilies lists the families matching f, oldest first.
func (s *Store) ListRefreshFamilies(ctx context.Context, f storage.FamilyFilter) ([]storage.RefreshFamily, error) {
	w := familyFilter(f)
	return families.find(ctx, s, w.sql(), "created_at, id", w.args...)
}

// RevokeRefreshFamilies revokes every unrevoked family matching f in one
// UPDATE and returns their IDs, sorted. f.IncludeRevoked is ignored: a
// revoked family keeps its first revocation time and reason. An empty
// filter would revoke every grant in the deployment, and a zero now would
// revoke nothing (revoked_at = 0 means "not revoked"); both are refused.
func (s *Store) RevokeRefreshFamilies(ctx context.Context, f storage.FamilyFilter, reason string, now time.Time) ([]string, error) {
	if err := storage.CheckFamilyFilter(f); err != nil {
		return nil, err
	}
	if err := storage.CheckNow("revoke refresh families", asStored(now)); err != nil {
		return nil, err
	}
	f.IncludeRevoked = false
	w := familyFilter(f)
	rows, err := s.query(ctx, s.w,
		"UPDATE refresh_families SET revoked_at = ?, revoke_reason = ? WHERE "+
			s.d.keyOrdered(families.table, families.key, w.sql())+" RETURNING id",
		append([]any{nanos(now), reason}, w.args...)...)
	if err != nil {
		return nil, s.wrap("revoke refresh families", err)
	}
	ids, err := collect(rows, func(sc scanner) (id string, err error) {
		err = sc.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, s.wrap("revoke refresh families", err)
	}
	slices.Sort(ids)
	return ids, nil
}
