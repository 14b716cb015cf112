package keys

import (
	"bytes"
	"errors"
	"time"

	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// snapshot is an immutable view of the stored keys. Nothing in it changes
// after buildSnapshot returns, so readers need no lock.
type snapshot struct {
	keys []*entry // as listed: oldest first
	byID map[string]*entry
}

// entry is one stored key. key is nil when the key has expired (it is never
// needed again, so it is not unsealed) or when it failed to open (problem
// says why); such a key neither signs nor is published.
type entry struct {
	rec     storage.SigningKey
	key     *opened
	problem error
}

// buildSnapshot opens recs, reusing what prev already opened for a key
// whose sealed bytes are unchanged.
func buildSnapshot(kr *seal.Keyring, recs []storage.SigningKey, prev *snapshot, now time.Time) (*snapshot, error) {
	s := &snapshot{keys: make([]*entry, 0, len(recs)), byID: make(map[string]*entry, len(recs))}
	var problems []error
	for _, r := range recs {
		e := &entry{rec: r}
		switch old := prev.byID[r.ID]; {
		case expiredAt(r, now):
		case old != nil && old.key != nil && old.rec.Algorithm == r.Algorithm &&
			bytes.Equal(old.rec.PrivateSealed, r.PrivateSealed) && bytes.Equal(old.rec.PublicJWK, r.PublicJWK):
			e.key = old.key
		default:
			e.key, e.problem = open(kr, r)
			if e.problem != nil {
				problems = append(problems, e.problem)
			}
		}
		s.keys = append(s.keys, e)
		s.byID[r.ID] = e
	}
	return s, errors.Join(problems...)
}

// expiredAt reports whether k is past its publication: it signed nothing
// that can still be valid.
func expiredAt(k storage.SigningKey, t time.Time) bool {
	return !k.ExpiresAt.IsZero() && !t.Before(k.ExpiresAt)
}

// publishedAt reports whether k belongs in the JWKS at t: from CreatedAt
// until ExpiresAt (SPEC OP-4).
func publishedAt(k storage.SigningKey, t time.Time) bool {
	return !t.Before(k.CreatedAt) && !expiredAt(k, t)
}

// signsAt reports whether t is inside k's signing window [ActiveAt, RetiredAt).
func signsAt(k storage.SigningKey, t time.Time) bool {
	return !t.Before(k.ActiveAt) && (k.RetiredAt.IsZero() || t.Before(k.RetiredAt))
}

// after orders keys by ActiveAt, then kid. Where two keys could both sign
// (two instances created a first key at once, or a rotation crashed before
// retiring the old key), every instance picks the later one, so they agree
// without talking to each other.
func after(a, b storage.SigningKey) bool {
	if c := a.ActiveAt.Compare(b.ActiveAt); c != 0 {
		return c > 0
	}
	return a.ID > b.ID
}

// signingAt returns the key that signs at t, or nil.
func (s *snapshot) signingAt(t time.Time) *entry {
	var best *entry
	for _, e := range s.keys {
		if e.key != nil && signsAt(e.rec, t) && (best == nil || after(e.rec, best.rec)) {
			best = e
		}
	}
	return best
}

// newest returns the latest unretired key, the one that signs from now on
// once its ActiveAt has passed, or nil. Rotation is due RotateEvery after
// its ActiveAt; a rotation in flight (a next key not yet signing) is
// therefore never due again.
func (s *snapshot) newest(now time.Time) *entry {
	var best *entry
	for _, e := range s.keys {
		if e.key != nil && e.rec.RetiredAt.IsZero() && !expiredAt(e.rec, now) && (best == nil || after(e.rec, best.rec)) {
			best = e
		}
	}
	return best
}

// records returns the stored keys as last loaded.
func (s *snapshot) records() []storage.SigningKey {
	out := make([]storage.SigningKey, len(s.keys))
	for i, e := range s.keys {
		out[i] = e.rec
	}
	return out
}
