package sqlstore

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/storagetest"
)

// postgresEnv names the DSN of a PostgreSQL server the tests may create
// schemas in. CI always sets it and fails if it sees the skip message.
const postgresEnv = "MCPGATE_TEST_POSTGRES"

// postgresSkip is the skip message CI looks for; keep the text exact.
const postgresSkip = "MCPGATE_TEST_POSTGRES not set: PostgreSQL conformance suite skipped"

// postgresDSN returns a DSN for a fresh schema of its own, dropped when t
// ends, so tests are isolated and may run in parallel. (A schema rather
// than a database: CREATE DATABASE copies a template and fsyncs it, which
// costs seconds per test.)
func postgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(postgresEnv)
	if admin == "" {
		t.Skip(postgresSkip)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	t.Cleanup(func() { db.Close() })
	schema := "mcpgate_test_" + randomHex(t)
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now; the drop must still run.
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return withSearchPath(t, admin, schema)
}

// withSearchPath points dsn's connections at schema.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestPostgresConformance(t *testing.T) {
	if os.Getenv(postgresEnv) == "" {
		t.Skip(postgresSkip)
	}
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTest(t, "postgres", postgresDSN(t)) })
}
