package storagetest

import (
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var leaseTests = []testCase{
	{"AcquireExtendExpire", testLeaseAcquire},
	{"Release", testLeaseRelease},
	{"NamesAreIndependent", testLeaseNames},
	{"ZeroTimes", testLeaseZeroTimes},
}

func acquire(t *testing.T, s storage.Store, name, holder string, now, expires time.Time) error {
	t.Helper()
	return s.AcquireLease(t.Context(), name, holder, now, expires)
}

// Expiry is judged by the now the caller passes, never by the store's clock,
// so instances agree on who holds a lease whatever the database host's time.
func testLeaseAcquire(t *testing.T, s storage.Store) {
	must(t, acquire(t, s, "refresh", "A", at(0), at(time.Minute)), "A acquires a free lease")
	wantErr(t, acquire(t, s, "refresh", "B", at(30*time.Second), at(2*time.Minute)), storage.ErrLeaseHeld,
		"B acquires A's unexpired lease")

	// A extends its lease: B stays out past the first expiry.
	must(t, acquire(t, s, "refresh", "A", at(30*time.Second), at(2*time.Minute)), "A re-acquires its lease")
	wantErr(t, acquire(t, s, "refresh", "B", at(90*time.Second), at(3*time.Minute)), storage.ErrLeaseHeld,
		"B acquires A's extended lease after its first expiry")

	// A lease expiring exactly at now is still held, as every record
	// expiring at now is still live.
	wantErr(t, acquire(t, s, "refresh", "B", at(2*time.Minute), at(3*time.Minute)), storage.ErrLeaseHeld,
		"B acquires A's lease at the instant it expires")

	// Once A's lease has expired (by the caller's now), B takes it.
	must(t, acquire(t, s, "refresh", "B", at(2*time.Minute+time.Microsecond), at(3*time.Minute)),
		"B acquires A's expired lease")
	wantErr(t, acquire(t, s, "refresh", "A", at(2*time.Minute+time.Second), at(4*time.Minute)), storage.ErrLeaseHeld,
		"A acquires the lease B now holds")
}

func testLeaseRelease(t *testing.T, s storage.Store) {
	must(t, s.ReleaseLease(t.Context(), "refresh", "A"), "ReleaseLease of a lease nobody holds")
	must(t, acquire(t, s, "refresh", "A", at(0), at(time.Hour)), "A acquires")

	must(t, s.ReleaseLease(t.Context(), "refresh", "B"), "B releases A's lease")
	wantErr(t, acquire(t, s, "refresh", "B", at(time.Second), at(time.Hour)), storage.ErrLeaseHeld,
		"B acquires after its release of A's lease")

	must(t, s.ReleaseLease(t.Context(), "refresh", "A"), "A releases its lease")
	must(t, acquire(t, s, "refresh", "B", at(time.Second), at(time.Hour)), "B acquires the released lease")
	wantErr(t, acquire(t, s, "refresh", "A", at(2*time.Second), at(time.Hour)), storage.ErrLeaseHeld,
		"A acquires the lease B now holds")
}

func testLeaseNames(t *testing.T, s storage.Store) {
	must(t, acquire(t, s, "refresh:alice@github", "A", at(0), at(time.Hour)), "A acquires one lease")
	must(t, acquire(t, s, "refresh:bob@github", "B", at(0), at(time.Hour)), "B acquires another")
	must(t, acquire(t, s, "key-rotation", "A", at(0), at(time.Hour)), "A acquires a second lease")
	must(t, s.ReleaseLease(t.Context(), "refresh:alice@github", "A"), "A releases one lease")
	wantErr(t, acquire(t, s, "key-rotation", "B", at(time.Second), at(time.Hour)), storage.ErrLeaseHeld,
		"B acquires the lease A did not release")
}

// A zero now or expiry is refused and takes nothing: a lease that never
// expires would outlive a crashed holder and lock every other instance out,
// and a zero now cannot judge whether the current lease has expired.
func testLeaseZeroTimes(t *testing.T, s storage.Store) {
	wantErr(t, acquire(t, s, "refresh", "A", time.Time{}, at(time.Minute)), storage.ErrInvalidArgument,
		"A acquires with a zero now")
	wantErr(t, acquire(t, s, "refresh", "A", at(0), time.Time{}), storage.ErrInvalidArgument,
		"A acquires with a zero expiry")
	must(t, acquire(t, s, "refresh", "B", at(0), at(time.Minute)), "B acquires the lease A was refused")

	// The holder cannot make its lease endless either: it keeps its expiry.
	wantErr(t, acquire(t, s, "refresh", "B", at(30*time.Second), time.Time{}), storage.ErrInvalidArgument,
		"B extends its lease with a zero expiry")
	wantErr(t, acquire(t, s, "refresh", "A", time.Time{}, at(time.Hour)), storage.ErrInvalidArgument,
		"A acquires B's lease with a zero now")
	must(t, acquire(t, s, "refresh", "A", at(time.Minute+time.Microsecond), at(time.Hour)),
		"A acquires B's lease once it expired")
}
