package keys

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// The states a key passes through (SPEC OP-4), as List reports them.
const (
	StateNext    = "next"    // published, not yet signing
	StateActive  = "active"  // the key Sign uses now
	StateRetired = "retired" // no longer signs; published until ExpiresAt
	StateExpired = "expired" // past ExpiresAt: no token it signed is valid
)

// KeyInfo describes a stored key for `mcpgate keys list`. It carries no
// key material.
type KeyInfo struct {
	ID        string
	Algorithm string
	CreatedAt time.Time
	ActiveAt  time.Time
	RetiredAt time.Time // zero while it is to sign
	ExpiresAt time.Time // zero until retired
	State     string    // StateNext, StateActive, StateRetired or StateExpired
	// Problem says why the key is unusable (its private part does not
	// open with the configured secrets); empty when it is fine.
	Problem string
}

// List reloads the keys from the store and describes each, in the order
// they sign (by ActiveAt).
// A key that does not open is listed with its Problem rather than failing
// the listing, so an operator can see which one it is.
func (m *Manager) List(ctx context.Context) ([]KeyInfo, error) {
	if _, err := m.reload(ctx); err != nil {
		return nil, err
	}
	return describe(m.snap.Load(), m.now()), nil
}

// Lister is the one store method ListStored needs: listing, no writing.
type Lister interface {
	ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error)
}

// ListStored describes the keys in store at now as List does, for a reader
// that must not write (`mcpgate keys list`). It builds no Manager: New
// creates a first key in an empty store, takes the rotation lease to do
// it, and fails outright on a key that does not open, where a listing
// should show that key with its Problem. Taking only a Lister makes the
// no-write promise one the compiler keeps.
func ListStored(ctx context.Context, store Lister, kr *seal.Keyring, now time.Time) ([]KeyInfo, error) {
	recs, err := store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list signing keys: %w", err)
	}
	s, _ := buildSnapshot(kr, recs, &snapshot{}, now) // problems are in each entry
	return describe(s, now), nil
}

// describe lists the keys of s as they stand at now, in signing order.
func describe(s *snapshot, now time.Time) []KeyInfo {
	signing := s.signingAt(now)
	out := make([]KeyInfo, 0, len(s.keys))
	for _, e := range s.keys {
		k := KeyInfo{
			ID: e.rec.ID, Algorithm: e.rec.Algorithm, CreatedAt: e.rec.CreatedAt,
			ActiveAt: e.rec.ActiveAt, RetiredAt: e.rec.RetiredAt, ExpiresAt: e.rec.ExpiresAt,
			State: state(e, signing, now),
		}
		if e.problem != nil {
			k.Problem = e.problem.Error()
		}
		out = append(out, k)
	}
	slices.SortStableFunc(out, func(a, b KeyInfo) int {
		return cmp.Or(a.ActiveAt.Compare(b.ActiveAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// state names where e is at now. A key inside its signing window that
// another key supersedes (see after) is reported retired: it signs nothing.
func state(e, signing *entry, now time.Time) string {
	switch {
	case expiredAt(e.rec, now):
		return StateExpired
	case e == signing:
		return StateActive
	case now.Before(e.rec.ActiveAt) && (e.rec.RetiredAt.IsZero() || now.Before(e.rec.RetiredAt)):
		return StateNext
	}
	return StateRetired
}
