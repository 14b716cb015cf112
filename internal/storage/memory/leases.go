package memory

import (
	"context"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// AcquireLease judges expiry by the caller's now, never by this process's
// clock, so that every backend agrees on who holds a lease. Zero times are
// refused: a lease that never expires would outlive a crashed holder.
func (s *Store) AcquireLease(_ context.Context, name, holder string, now, expires time.Time) error {
	if err := storage.CheckLease(now, expires); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.leases[name]; ok && l.Holder != holder && !expired(l.ExpiresAt, now) {
		return storage.ErrLeaseHeld
	}
	s.leases[name] = storage.Lease{Name: name, Holder: holder, ExpiresAt: utc(expires)}
	return nil
}

func (s *Store) ReleaseLease(_ context.Context, name, holder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.leases[name]; ok && l.Holder == holder {
		delete(s.leases, name)
	}
	return nil
}
