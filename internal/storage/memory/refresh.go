package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

func setFamilyKey(f *storage.RefreshFamily, id string) { f.ID = id }

// CreateRefreshFamily stores both records or neither.
func (s *Store) CreateRefreshFamily(_ context.Context, f storage.RefreshFamily, first storage.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.families[f.ID]; ok {
		return alreadyExists("refresh family", f.ID)
	}
	if _, ok := s.tokens[first.ID]; ok {
		return alreadyExists("refresh token", first.ID)
	}
	s.families[f.ID] = cloneFamily(f)
	s.tokens[first.ID] = cloneToken(first)
	return nil
}

func (s *Store) GetRefreshFamily(_ context.Context, id string) (storage.RefreshFamily, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s.families, "refresh family", id, cloneFamily)
}

// UpdateRefreshFamily keeps what storage.RefreshFamily.KeepFixed keeps:
// fn can neither move the grant nor undo its revocation.
func (s *Store) UpdateRefreshFamily(_ context.Context, id string, fn func(storage.RefreshFamily) (storage.RefreshFamily, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return update(s.families, "refresh family", id, cloneFamily, setFamilyKey,
		func(old storage.RefreshFamily) (storage.RefreshFamily, error) {
			next, err := fn(old) // old is a copy: fn cannot reach the fixed fields through it
			if err != nil {
				return next, err
			}
			return old.KeepFixed(next), nil
		})
}

func familyMatches(f storage.RefreshFamily, flt storage.FamilyFilter) bool {
	return (flt.Subject == "" || f.Subject == flt.Subject) &&
		(flt.ClientID == "" || f.ClientID == flt.ClientID) &&
		(flt.IncludeRevoked || !f.Revoked())
}

// ListRefreshFamilies lists the matching families, oldest first.
func (s *Store) ListRefreshFamilies(_ context.Context, flt storage.FamilyFilter) ([]storage.RefreshFamily, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storage.RefreshFamily
	for _, f := range s.families {
		if familyMatches(f, flt) {
			out = append(out, cloneFamily(f))
		}
	}
	slices.SortFunc(out, func(a, b storage.RefreshFamily) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// RevokeRefreshFamilies revokes the matching unrevoked families and returns
// their IDs, sorted. A family already revoked keeps its original time and
// reason, and is not reported again. An empty filter would revoke every
// grant, and a zero now would revoke nothing (RevokedAt zero means "not
// revoked"); both are refused.
func (s *Store) RevokeRefreshFamilies(_ context.Context, flt storage.FamilyFilter, reason string, now time.Time) ([]string, error) {
	if err := storage.CheckFamilyFilter(flt); err != nil {
		return nil, err
	}
	if err := storage.CheckNow("revoke refresh families", now); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	flt.IncludeRevoked = false
	var ids []string
	for id, f := range s.families {
		if !familyMatches(f, flt) {
			continue
		}
		f.RevokedAt, f.RevokeReason = utc(now), reason
		s.families[id] = f
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *Store) GetRefreshToken(_ context.Context, id string) (storage.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s.tokens, "refresh token", id, cloneToken)
}

// RotateRefreshToken retires r.OldID in favour of r.Successor under the store
// lock, so of any number of concurrent rotations exactly one succeeds (RFC
// 9700 §4.14.2: refresh tokens are single-use). It returns the old token as
// the call left it: rotated on success, as the winner left it with
// ErrConsumed. Nothing changes unless the rotation succeeds.
//
// A revoked family is checked before reuse: a replayed token of a revoked
// grant gets ErrRevoked, never the ErrConsumed that lets a caller hand out
// the sealed successor within the grace window. A zero r.Now is refused:
// UsedAt zero means "unused", so the old token would rotate again.
func (s *Store) RotateRefreshToken(_ context.Context, r storage.Rotation) (storage.RefreshToken, error) {
	if err := storage.CheckNow("rotate refresh token", r.Now); err != nil {
		return storage.RefreshToken{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.tokens[r.OldID]
	if !ok {
		return storage.RefreshToken{}, notFound("refresh token", r.OldID)
	}
	if err := storage.CheckSuccessor(old.FamilyID, r); err != nil {
		return storage.RefreshToken{}, err
	}
	fam, ok := s.families[old.FamilyID]
	if !ok {
		return storage.RefreshToken{}, notFound("refresh family", old.FamilyID)
	}
	if fam.Revoked() {
		return storage.RefreshToken{}, fmt.Errorf("%w: refresh family %q", storage.ErrRevoked, fam.ID)
	}
	if !old.UsedAt.IsZero() {
		return cloneToken(old), storage.ErrConsumed
	}
	if _, ok := s.tokens[r.Successor.ID]; ok {
		return storage.RefreshToken{}, alreadyExists("refresh token", r.Successor.ID)
	}

	now := utc(r.Now)
	old.UsedAt = now
	old.SuccessorID = r.Successor.ID
	old.SuccessorSealed = bytes.Clone(r.SuccessorSealed)
	old.GraceUntil = utc(r.GraceUntil)
	s.tokens[old.ID] = old
	s.tokens[r.Successor.ID] = cloneToken(r.Successor)
	fam.LastUsedAt = now
	s.families[fam.ID] = fam
	return cloneToken(old), nil
}
