package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteBusyTimeout is how long a writer waits for another process's write
// lock before giving up with SQLITE_BUSY. In-process writers never wait on
// it (they queue on the single write connection).
const sqliteBusyTimeout = 5 * time.Second

// postgresConnectTimeout applies when the DSN sets no connect_timeout, so an
// unreachable server fails Open instead of hanging on the kernel's TCP
// timeout.
const postgresConnectTimeout = 10 * time.Second

// postgresMaxConns caps each instance's connections to PostgreSQL.
const postgresMaxConns = 32

// openSQLite opens a write pool and a read pool on the file at path. The
// options are set here, not taken from the DSN, because the store's
// correctness depends on them:
//   - _txlock=immediate: a write transaction takes the write lock at BEGIN,
//     so a CAS updater's read and write cannot be split by another writer,
//     and no transaction has to upgrade a read lock (which fails with
//     SQLITE_BUSY immediately instead of waiting);
//   - journal_mode=WAL: readers never block the writer or each other;
//   - synchronous=NORMAL: durable across process crashes; WAL keeps the
//     database consistent across power loss (the last commits may be lost);
//   - busy_timeout: writers in other processes wait instead of failing;
//   - foreign_keys: enforce any FOREIGN KEY a migration declares.
func openSQLite(path string) (*Store, error) {
	if err := checkSQLitePath(path); err != nil {
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	if err := switchToWAL(path); err != nil {
		return nil, err
	}
	pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)"+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)", sqliteBusyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", path+"?_txlock=immediate&"+pragmas)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	// query_only: a read that strays into a write fails instead of
	// bypassing the single writer.
	r, err := sql.Open("sqlite", path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &Store{d: sqliteDialect, w: w, r: r, ws: &stmtCache{db: w}, rs: &stmtCache{db: r}}, nil
}

// switchToWAL puts the file in WAL mode once, before the pools open. The
// switch needs an exclusive lock, and SQLite answers SQLITE_BUSY at once,
// without waiting for busy_timeout, when two connections try it together
// (each holds a read of the header while asking for the lock). Two
// instances, or the server and `mcpgate migrate`, starting on a new file
// would then fail to start. So the switch is retried with a short backoff
// for up to sqliteBusyTimeout; once the file is in WAL mode, the pools'
// own journal_mode pragma changes nothing and needs no lock.
func switchToWAL(path string) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for backoff := time.Millisecond; ; backoff = min(2*backoff, 50*time.Millisecond) {
		err := setWAL(path)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(backoff)
	}
}

func setWAL(path string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	return nil
}

// isBusy reports SQLITE_BUSY (5) or SQLITE_LOCKED (6) from the driver.
func isBusy(err error) bool {
	var coded interface{ Code() int }
	if !errors.As(err, &coded) {
		return false
	}
	c := coded.Code() & 0xff // extended codes keep the primary in the low byte
	return c == 5 || c == 6
}

// checkSQLitePath rejects what openSQLite cannot honour, with a message
// that says why, rather than SQLite's "unable to open database file".
//
// No message repeats the path or any part of it (nor does createPrivate's):
// openError already names the DSN, redacted by RedactDSN, and a DSN that
// fails here may not be a path at all. A PostgreSQL URL put in a SQLite DSN
// by mistake has its password in what would be the "directory"
// (postgres:/user:password@host:5432), which an unredacted copy would leak
// into logs.
func checkSQLitePath(path string) error {
	switch {
	case path == "":
		return errors.New("empty DSN: want the path of the database file")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return errors.New("want the path of a database file (in-memory databases and file: URIs are not supported; use the memory driver for an ephemeral store)")
	case strings.ContainsRune(path, '?'):
		return errors.New("want a plain file path without query parameters (mcpgate sets the SQLite options itself)")
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("its directory does not exist (create it first)")
		}
		return fmt.Errorf("cannot use its directory: %w", withoutPath(err))
	}
	if !fi.IsDir() {
		return errors.New("its parent path is not a directory")
	}
	return nil
}

// withoutPath strips the path from an *os.PathError, keeping the
// operation and the cause ("stat: file name too long"), for the reason
// checkSQLitePath gives.
func withoutPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// createPrivate creates the database file readable by its owner only,
// unless it exists. The file holds client-secret hashes, sealed tokens and
// sealed signing keys: sealing protects their contents, but a world-readable
// file still hands any local user the material to attack offline. SQLite
// gives its -wal and -shm files the main file's mode, so they follow.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot create the database file: %w", withoutPath(err))
	}
	return f.Close()
}

// openPostgres opens a pgx-backed pool on the configuration postgresConfig
// makes of dsn.
func openPostgres(dsn string) (*Store, error) {
	cfg, err := postgresConfig(dsn)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	// A cap, so that a burst on several instances queues here instead of
	// exhausting the server's max_connections (100 by default).
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxConns / 2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{
		d: postgresDialect, w: db, r: db,
		txOpts: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	}, nil
}

// postgresConfig parses dsn and applies the defaults the DSN leaves open.
// Parsing here (rather than in sql.Open) reports a malformed DSN at Open
// and lets us default the connect timeout.
func postgresConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, parseError(err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = postgresConnectTimeout
	}
	return cfg, nil
}

// parseError rebuilds a pgx parse error without the copy of the DSN pgx
// puts in it: pgx redacts passwords there only on a best-effort basis (as
// does net/url, whose errors quote the whole URL), and Open already names
// the DSN, redacted by RedactDSN. What is kept is pgx's fixed description
// ("invalid port") and the underlying cause.
func parseError(err error) error {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return err
	}
	full, cause := pe.Error(), pe.Unwrap()
	if cause != nil {
		full = strings.TrimSuffix(full, " ("+cause.Error()+")")
		var ue *url.Error
		if errors.As(cause, &ue) {
			cause = ue.Err
		}
	}
	msg := "cannot parse"
	if i := strings.LastIndex(full, "`: "); i >= 0 {
		msg = full[i+len("`: "):]
	}
	if cause != nil {
		return fmt.Errorf("invalid DSN: %s: %w", msg, cause)
	}
	return fmt.Errorf("invalid DSN: %s", msg)
}
