package sqlstore

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/testenv/pgtest"
)

// eachDialect runs f on a fresh, empty database of each dialect. The
// PostgreSQL case skips when MCPGATE_TEST_POSTGRES is not set.
func eachDialect(t *testing.T, f func(t *testing.T, driver, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, "sqlite", filepath.Join(t.TempDir(), "mcpgate.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, "postgres", pgtest.DSN(t, schemaPrefix))
	})
}

func allVersions() []int {
	var v []int
	for _, m := range migrations {
		v = append(v, m.version)
	}
	return v
}

func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, driver, dsn string) {
		ctx := t.Context()
		s, err := OpenNoMigrate(ctx, driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		applied, err := s.Migrate(ctx)
		if err != nil || !slices.Equal(applied, allVersions()) {
			t.Fatalf("first Migrate = %v, %v; want %v", applied, err, allVersions())
		}
		applied, err = s.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second Migrate = %v, %v; want nothing applied", applied, err)
		}

		// Open migrates too, and finds nothing to do.
		s2 := openTest(t, driver, dsn)
		applied, err = s2.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("Migrate after a second Open = %v, %v; want nothing applied", applied, err)
		}
		var n int
		if err := s2.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(migrations) {
			t.Errorf("migrations table has %d rows, want %d", n, len(migrations))
		}
	})
}

// Instances starting together must not apply a migration twice (the second
// CREATE TABLE would fail, or worse, half of one would run twice).
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, driver, dsn string) {
		const instances = 6
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			applied = make([][]int, instances)
			errs    = make([]error, instances)
		)
		for i := range instances {
			wg.Go(func() {
				<-start
				s, err := OpenNoMigrate(t.Context(), driver, dsn)
				if err != nil {
					errs[i] = err
					return
				}
				defer s.Close()
				applied[i], errs[i] = s.Migrate(t.Context())
			})
		}
		close(start)
		wg.Wait()
		var all []int
		for i := range instances {
			if errs[i] != nil {
				t.Fatalf("instance %d: %v", i, errs[i])
			}
			all = append(all, applied[i]...)
		}
		slices.Sort(all)
		if !slices.Equal(all, allVersions()) {
			t.Errorf("migrations applied over all instances: %v, want each of %v once", all, allVersions())
		}
	})
}

// A database migrated by a newer mcpgate is refused, not misread.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, driver, dsn string) {
		s := openTest(t, driver, dsn)
		future := allVersions()[len(migrations)-1] + 1
		if _, err := s.w.ExecContext(t.Context(), s.q(`INSERT INTO migrations (version, applied_at) VALUES (?, 0)`), future); err != nil {
			t.Fatal(err)
		}
		_, err := Open(t.Context(), driver, dsn)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema is at version %d", future)) {
			t.Fatalf("Open of a newer schema: got %v, want a version error", err)
		}
	})
}
