package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// AcquireLease takes the lease for holder until expires, or extends it if
// holder has it already. It is one statement: the insert creates a free
// lease, and on conflict the update applies only if holder already holds it
// or the current lease expired before now (a lease expiring exactly at now
// is still held). Whether a row was written says who won, with no window
// between check and write for another instance to slip into.
//
// Times stored as 0 are refused: expires_at = 0 would read as expired here
// (0 < now) but as never expiring to GarbageCollect, and a zero now would
// judge every lease live.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now, expires time.Time) error {
	if err := storage.CheckLease(asStored(now), asStored(expires)); err != nil {
		return err
	}
	n, err := s.exec(ctx, s.w, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < ?`,
		name, holder, nanos(expires), nanos(now))
	if err != nil {
		return s.wrap("acquire lease", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: acquire lease %q: %w", name, storage.ErrLeaseHeld)
	}
	return nil
}

// ReleaseLease drops the lease if holder has it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.exec(ctx, s.w, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	return s.wrap("release lease", err)
}
