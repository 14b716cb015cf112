// Package pgtest gives a test a PostgreSQL schema of its own on the server
// that MCPGATE_TEST_POSTGRES names, and skips the test when it names none.
// External databases are opt-in for a developer; CI always sets the
// variable and fails on the skip message (.ci/run).
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create and drop test schemas
)

// Env names the DSN of a PostgreSQL server the tests may create schemas in.
const Env = "MCPGATE_TEST_POSTGRES"

// SkipMessage is what a test skipped for want of Env says. CI greps for its
// prefix "MCPGATE_TEST_POSTGRES not set": keep that text exact.
const SkipMessage = "MCPGATE_TEST_POSTGRES not set: PostgreSQL tests skipped"

// DSN returns a DSN for a fresh schema, prefix plus random hex, dropped when
// t ends, so tests are isolated, may run in parallel and reruns never
// collide. (A schema rather than a database: CREATE DATABASE copies a
// template and fsyncs it, which costs seconds per test.) It skips t when
// Env is unset.
//
// Call it before opening anything on the DSN: cleanups run last in, first
// out, so the drop then runs after those connections have closed.
func DSN(t testing.TB, prefix string) string {
	t.Helper()
	admin := os.Getenv(Env)
	if admin == "" {
		t.Skip(SkipMessage)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	t.Cleanup(func() { db.Close() })
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand, Go 1.24)
	schema := prefix + hex.EncodeToString(b)
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
		return dsn + " search_path=" + schema // keyword/value form
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
