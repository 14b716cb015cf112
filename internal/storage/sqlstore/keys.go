package sqlstore

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var signingKeys = record[storage.SigningKey]{
	what: "signing key", table: "signing_keys", key: []string{"id"},
	cols: []string{"id", "algorithm", "public_jwk", "private_sealed", "created_at", "active_at", "retired_at", "expires_at"},
	args: func(k storage.SigningKey) []any {
		return []any{k.ID, k.Algorithm, k.PublicJWK, k.PrivateSealed, nanos(k.CreatedAt), nanos(k.ActiveAt),
			nanos(k.RetiredAt), nanos(k.ExpiresAt)}
	},
	scan: func(sc scanner) (k storage.SigningKey, err error) {
		err = sc.Scan(&k.ID, &k.Algorithm, blobCol{&k.PublicJWK}, blobCol{&k.PrivateSealed}, timeCol{&k.CreatedAt},
			timeCol{&k.ActiveAt}, timeCol{&k.RetiredAt}, timeCol{&k.ExpiresAt})
		return k, err
	},
}

// CreateSigningKey stores k; ErrAlreadyExists if its kid is taken.
func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	return signingKeys.create(ctx, s, s.w, k)
}

// UpdateSigningKey replaces the key with fn's result (compare-and-swap).
func (s *Store) UpdateSigningKey(ctx context.Context, id string, fn func(storage.SigningKey) (storage.SigningKey, error)) error {
	return signingKeys.update(ctx, s, fn, id)
}

// ListSigningKeys lists every key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	return signingKeys.find(ctx, s, "1 = 1", "created_at, id")
}
