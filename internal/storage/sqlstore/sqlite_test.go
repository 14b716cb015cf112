package sqlstore

import (
	"path/filepath"
	"testing"

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
