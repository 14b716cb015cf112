package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// Store is the SQL backend. It is safe for concurrent use, and several
// processes may share one database (SQLite file or PostgreSQL).
type Store struct {
	d *dialect
	// w runs writes and every transaction. On SQLite it holds exactly one
	// connection, so in-process writers queue in database/sql (FIFO, no
	// polling) instead of spinning in SQLite's busy handler; busy_timeout
	// then only covers writers in other processes.
	w *sql.DB
	// r runs reads outside transactions. On SQLite it is a separate
	// read-only pool (WAL lets readers run beside the writer); on PostgreSQL
	// it is the same pool as w.
	r *sql.DB
	// txOpts pins PostgreSQL to READ COMMITTED whatever the server default:
	// the row locks below are what serialise writers, and a stricter level
	// would add serialization failures nobody retries.
	txOpts *sql.TxOptions
	// ws and rs cache prepared statements for w and r (SQLite only; nil
	// on PostgreSQL). See stmts.go.
	ws, rs *stmtCache
}

var _ storage.Store = (*Store)(nil)

// querier is what *sql.DB and *txn have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// Open connects to the database, checks that it answers and brings its
// schema up to date. driver is "sqlite" (dsn is a file path; its directory
// must exist) or "postgres" (dsn is a libpq URL or keyword/value string).
// Errors name the driver and the DSN with any password redacted.
func Open(ctx context.Context, driver, dsn string) (*Store, error) {
	s, err := OpenNoMigrate(ctx, driver, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, openError(driver, dsn, err)
	}
	return s, nil
}

// OpenNoMigrate is Open without the migration step, for `mcpgate migrate`,
// which runs Migrate itself to report what it applied. The store must not
// serve requests until Migrate has run.
func OpenNoMigrate(ctx context.Context, driver, dsn string) (*Store, error) {
	var (
		s   *Store
		err error
	)
	switch driver {
	case "sqlite":
		s, err = openSQLite(dsn)
	case "postgres":
		s, err = openPostgres(dsn)
	default:
		err = errors.New("unknown driver (want sqlite or postgres)")
	}
	if err == nil {
		if err = s.Ping(ctx); err != nil {
			s.Close()
		}
	}
	if err != nil {
		return nil, openError(driver, dsn, err)
	}
	return s, nil
}

func openError(driver, dsn string, err error) error {
	return fmt.Errorf("storage: open %s %q: %w", driver, RedactDSN(dsn), err)
}

// Ping reports whether the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return err
	}
	if s.r != s.w {
		return s.r.PingContext(ctx)
	}
	return nil
}

// Close closes the connection pools.
func (s *Store) Close() error {
	if s.ws != nil {
		s.ws.close()
		s.rs.close()
	}
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// q rewrites a portable query for the dialect.
func (s *Store) q(query string) string { return s.d.rebind(query) }

// inTx runs fn in a write transaction and commits if it returns nil. An
// error from fn is returned unchanged (the CAS updaters promise that).
func (s *Store) inTx(ctx context.Context, fn func(tx *txn) error) error {
	sqlTx, err := s.w.BeginTx(ctx, s.txOpts)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	tx := &txn{Tx: sqlTx}
	defer func() {
		for _, q := range tx.misses {
			s.ws.get(ctx, q)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// wrap adds the operation to a database error and turns a unique violation
// into storage.ErrAlreadyExists.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if s.d.isUnique(err) {
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrAlreadyExists)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrNotFound)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// collect scans every row and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
