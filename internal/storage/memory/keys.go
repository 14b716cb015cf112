package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

func setSigningKeyKey(k *storage.SigningKey, id string) { k.ID = id }

func (s *Store) CreateSigningKey(_ context.Context, k storage.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return create(s.signingKeys, "signing key", k.ID, cloneSigningKey(k))
}

func (s *Store) UpdateSigningKey(_ context.Context, id string, fn func(storage.SigningKey) (storage.SigningKey, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return update(s.signingKeys, "signing key", id, cloneSigningKey, setSigningKeyKey, fn)
}

// ListSigningKeys lists oldest first (ties by ID).
func (s *Store) ListSigningKeys(context.Context) ([]storage.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storage.SigningKey, 0, len(s.signingKeys))
	for _, k := range s.signingKeys {
		out = append(out, cloneSigningKey(k))
	}
	slices.SortFunc(out, func(a, b storage.SigningKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// revocationKey is a revocation's identity: a newer entry for the same
// family, token or user replaces the older one.
type revocationKey struct {
	kind storage.RevocationKind
	key  string
}

// AddRevocation stores r, or what storage.Revocation.Supersede makes of it
// over the entry with its key: an entry landing out of order can move
// neither NotBefore nor ExpiresAt back.
func (s *Store) AddRevocation(_ context.Context, r storage.Revocation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := revocationKey{r.Kind, r.Key}
	if old, ok := s.revocations[k]; ok {
		r = old.Supersede(r)
	}
	s.revocations[k] = cloneRevocation(r)
	return nil
}

// ListRevocations lists entries created at or after since, oldest first
// (ties by kind and key).
func (s *Store) ListRevocations(_ context.Context, since time.Time) ([]storage.Revocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storage.Revocation
	for _, r := range s.revocations {
		if !r.CreatedAt.Before(since) {
			out = append(out, cloneRevocation(r))
		}
	}
	slices.SortFunc(out, func(a, b storage.Revocation) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}
