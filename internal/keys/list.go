package keys

import (
	"cmp"
	"context"
	"slices"
	"time"
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
	now, s := m.now(), m.snap.Load()
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
	return out, nil
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
