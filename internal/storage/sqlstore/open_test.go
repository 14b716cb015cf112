package sqlstore

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// wantOpenError checks that Open fails with an error that names the driver
// and the redacted DSN, never the password, and mentions cause. A SQLite
// error names the path once, in that prefix, and never repeats its
// directory: the "path" may be a misplaced URL whose "directory" holds a
// password.
func wantOpenError(t *testing.T, driver, dsn, password, cause string) {
	t.Helper()
	s, err := Open(t.Context(), driver, dsn)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s, %q) succeeded, want an error", driver, RedactDSN(dsn))
	}
	msg := err.Error()
	if prefix := "storage: open " + driver + ` "` + RedactDSN(dsn) + `": `; !strings.HasPrefix(msg, prefix) {
		t.Errorf("error %q does not start with %q", msg, prefix)
	}
	if password != "" && strings.Contains(msg, password) {
		t.Errorf("error %q leaks the password", msg)
	}
	if !strings.Contains(msg, cause) {
		t.Errorf("error %q does not mention %q", msg, cause)
	}
	prefix := "storage: open " + driver + ` "` + RedactDSN(dsn) + `": `
	if dir := filepath.Dir(dsn); driver == "sqlite" && dir != "." && strings.Contains(strings.TrimPrefix(msg, prefix), dir) {
		t.Errorf("error %q repeats the directory %q", msg, dir)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	garbage := bytes.Repeat([]byte("this is not an SQLite database\x00\xff"), 256)
	if err := os.WriteFile(corrupt, garbage, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, driver, dsn, password, cause string
	}{
		{"SQLiteCorrupt", "sqlite", corrupt, "", "not a database"},
		{"SQLiteNoDir", "sqlite", filepath.Join(dir, "missing", "mcpgate.db"), "", "does not exist"},
		{"SQLiteDirIsFile", "sqlite", filepath.Join(corrupt, "mcpgate.db"), "", "is not a directory"},
		// A PostgreSQL URL under the sqlite driver: its "directory",
		// postgres:/mcpgate:hunter2@db.internal:5432, holds the password.
		{"SQLitePostgresURL", "sqlite", "postgres://mcpgate:hunter2@db.internal:5432/mcpgate", "hunter2", "does not exist"},
		{"SQLiteDirNameTooLong", "sqlite", filepath.Join(dir, strings.Repeat("d", 300), "mcpgate.db"), "", "file name too long"},
		{"SQLiteFileNameTooLong", "sqlite", filepath.Join(dir, strings.Repeat("f", 300)), "", "file name too long"},
		{"SQLiteQuery", "sqlite", filepath.Join(dir, "x.db") + "?_txlock=deferred", "", "without query parameters"},
		{"SQLiteMemory", "sqlite", ":memory:", "", "in-memory"},
		{"SQLiteEmpty", "sqlite", "", "", "empty DSN"},
		{"UnknownDriver", "mysql", "u:hunter22@tcp(db)/x", "", "unknown driver"},
		// Port 1 on loopback is closed: the connection is refused at once.
		{"PostgresUnreachableURL", "postgres", "postgres://u:hunter22@127.0.0.1:1/db?connect_timeout=5",
			"hunter22", "failed to connect"},
		{"PostgresUnreachableKV", "postgres", "host=127.0.0.1 port=1 user=u password='hunter 22' dbname=db connect_timeout=5",
			"hunter 22", "failed to connect"},
		{"PostgresBadPort", "postgres", "postgres://u:hunter22@127.0.0.1:notaport/db", "hunter22", "invalid DSN"},
		{"PostgresBadURL", "postgres", "postgres://u:hunter%zz22@127.0.0.1/db", "hunter", "invalid DSN"},
		{"PostgresBadKV", "postgres", "host=127.0.0.1 password='hunter22", "hunter22", "invalid DSN"},
		{"PostgresBadTimeout", "postgres", "postgres://u:hunter22@127.0.0.1/db?connect_timeout=soon", "hunter22", "connect_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantOpenError(t, tc.driver, tc.dsn, tc.password, tc.cause)
		})
	}

	// The corrupt file is left as it was: Open must not "repair" it.
	got, err := os.ReadFile(corrupt)
	if err != nil || !bytes.Equal(got, garbage) {
		t.Errorf("Open changed the corrupt file (err %v)", err)
	}
}

// An unreachable server must not hang Open past the caller's deadline.
func TestOpenPostgresHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Open(ctx, "postgres", "postgres://u:hunter22@192.0.2.1:5432/db")
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("Open with a cancelled context: got %v, want context canceled", err)
	}
}

func TestSQLitePragmas(t *testing.T) {
	t.Parallel()
	s := openSQLiteTest(t)
	ctx := t.Context()
	pragma := func(name string, want string) {
		t.Helper()
		for _, pool := range []struct {
			name string
			q    querier
		}{{"write pool", s.w}, {"read pool", s.r}} {
			var got string
			if err := pool.q.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", name, err)
			}
			if got != want {
				t.Errorf("%s: PRAGMA %s = %q, want %q", pool.name, name, got, want)
			}
		}
	}
	pragma("journal_mode", "wal")
	pragma("busy_timeout", "5000")
	pragma("foreign_keys", "1")
	pragma("synchronous", "1") // NORMAL

	// The read pool cannot write, even by mistake.
	if _, err := s.r.ExecContext(ctx, `DELETE FROM leases`); err == nil {
		t.Error("a write through the read pool succeeded")
	}
}

func TestSQLitePersistsAcrossReopen(t *testing.T) {
	t.Parallel()
	// A path with a space and a '#' is still a plain path.
	dir := filepath.Join(t.TempDir(), "data dir")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mcp#gate.db")
	ctx := t.Context()

	s, err := Open(ctx, "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	want := storage.Client{ID: "c1", Name: "Client", RedirectURIs: []string{"https://c.example/cb"}, SecretHash: []byte{1, 2}}
	if err := s.CreateClient(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, "sqlite", path)
	got, err := s.GetClient(ctx, "c1")
	if err != nil {
		t.Fatalf("GetClient after reopen: %v", err)
	}
	if got.Name != want.Name || got.RedirectURIs[0] != want.RedirectURIs[0] || !bytes.Equal(got.SecretHash, want.SecretHash) {
		t.Errorf("client after reopen = %+v, want %+v", got, want)
	}
}

// A new database file and its WAL are readable by their owner only, even
// under a permissive umask: they hold secret hashes and sealed keys.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "private.db")
	s := openTest(t, "sqlite", path)
	if err := s.CreateClient(t.Context(), storage.Client{ID: "c1"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
		}
	}
}

// Without a connect_timeout in the DSN, an unreachable server would hang
// Open for the kernel's TCP timeout (minutes); postgresConfig defaults it,
// and leaves one the DSN sets alone. Parsing only: no connection is made.
func TestPostgresConfigConnectTimeout(t *testing.T) {
	t.Setenv("PGCONNECT_TIMEOUT", "") // pgx would read it as the DSN's
	for _, tc := range []struct {
		dsn  string
		want time.Duration
	}{
		{"postgres://u:hunter22@db.example:5432/db", postgresConnectTimeout},
		{"host=db.example user=u password=hunter22 dbname=db", postgresConnectTimeout},
		{"postgres://u:hunter22@db.example:5432/db?connect_timeout=3", 3 * time.Second},
		{"host=db.example user=u dbname=db connect_timeout=7", 7 * time.Second},
	} {
		cfg, err := postgresConfig(tc.dsn)
		if err != nil {
			t.Fatalf("postgresConfig(%q): %v", RedactDSN(tc.dsn), err)
		}
		if cfg.ConnectTimeout != tc.want {
			t.Errorf("postgresConfig(%q).ConnectTimeout = %v, want %v", RedactDSN(tc.dsn), cfg.ConnectTimeout, tc.want)
		}
	}
}
