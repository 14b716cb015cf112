package sqlstore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/storagetest"
)

// openSQLiteTest opens a fresh SQLite store in a file of t's temp dir and
// closes it when t ends.
func openSQLiteTest(t *testing.T) *Store {
	t.Helper()
	return openTest(t, "sqlite", filepath.Join(t.TempDir(), "mcpgate.db"))
}

// openTest opens a store and closes it when t ends.
func openTest(t *testing.T, driver, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), driver, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSQLiteConformance(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store { return openSQLiteTest(t) })
}

// The Unix epoch encodes as 0, the column value for "unused" and "not
// revoked", so as a now it would mark nothing: a consumed code or rotated
// token would read back unused. It is refused like the zero time.
func TestEpochRefusedAsNow(t *testing.T) {
	t.Parallel()
	s := openSQLiteTest(t)
	ctx := t.Context()
	epoch := time.Unix(0, 0)
	_, err := s.ConsumeAuthCode(ctx, []byte("code"), epoch)
	wantInvalid(t, err, "ConsumeAuthCode at the epoch")
	_, err = s.RotateRefreshToken(ctx, storage.Rotation{OldID: "t1", Now: epoch})
	wantInvalid(t, err, "RotateRefreshToken at the epoch")
	_, err = s.RevokeRefreshFamilies(ctx, storage.FamilyFilter{Subject: "alice"}, "x", epoch)
	wantInvalid(t, err, "RevokeRefreshFamilies at the epoch")
	wantInvalid(t, s.AcquireLease(ctx, "l", "A", epoch, time.Now()), "AcquireLease at the epoch")
	wantInvalid(t, s.AcquireLease(ctx, "l", "A", time.Now(), epoch), "AcquireLease until the epoch")
}

func wantInvalid(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, storage.ErrInvalidArgument) {
		t.Errorf("%s: got error %v, want ErrInvalidArgument", what, err)
	}
}
