package storagetest

import (
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var timeTests = []testCase{
	{"RangeRoundTrips", testTimeRange},
	{"OutOfRangeIsClamped", testTimeClamped},
}

// The ends of the range storage.Store promises to keep exactly (1678 through
// 2261; sqlstore's int64 Unix nanoseconds span 1677-09-21 to 2262-04-11).
var (
	rangeStart = time.Date(1678, time.January, 1, 0, 0, 0, 1000, time.UTC)
	rangeEnd   = time.Date(2261, time.December, 31, 23, 59, 59, 999999000, time.UTC)
)

func testTimeRange(t *testing.T, s storage.Store) {
	c := newClient("c1")
	c.CreatedAt = rangeStart.In(zone)
	c.UpdatedAt = rangeEnd.In(zone)
	c.ExpiresAt = rangeEnd
	must(t, s.CreateClient(t.Context(), c), "CreateClient")
	got, err := s.GetClient(t.Context(), "c1")
	must(t, err, "GetClient")
	check(t, "client with times at the ends of the range", got, c)
}

// A time outside the range may be clamped to its nearest end, never wrapped:
// a caller writing year 9999 for "far future" must not get a record or lease
// that looks long expired, nor a year-1000 time one that looks recent.
func testTimeClamped(t *testing.T, s storage.Store) {
	ctx := t.Context()
	farFuture := time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)
	farPast := time.Date(1000, time.January, 1, 0, 0, 0, 0, time.UTC)

	c := newClient("c1")
	c.CreatedAt, c.ExpiresAt = farPast, farFuture
	must(t, s.CreateClient(ctx, c), "CreateClient")
	must(t, s.AcquireLease(ctx, "far", "A", at(0), farFuture), "AcquireLease until year 9999")

	gc(t, s, at(time.Hour), storage.GCResult{})
	got, err := s.GetClient(ctx, "c1")
	must(t, err, "GetClient of a client expiring in year 9999, after GC")
	if got.ExpiresAt.Before(rangeEnd) {
		t.Errorf("ExpiresAt of year 9999 read back as %v, before the end of the range", got.ExpiresAt)
	}
	if got.CreatedAt.After(rangeStart) {
		t.Errorf("CreatedAt of year 1000 read back as %v, after the start of the range", got.CreatedAt)
	}
	wantErr(t, s.AcquireLease(ctx, "far", "B", at(time.Hour), at(2*time.Hour)), storage.ErrLeaseHeld,
		"B acquires a lease held until year 9999")
}
