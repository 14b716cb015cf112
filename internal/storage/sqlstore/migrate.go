package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Migrate applies every migration the database lacks and returns the
// versions it applied (none when the schema is current). It is safe to run
// from several processes at once: each migration runs in its own
// transaction under a lock (a PostgreSQL advisory lock; SQLite's write
// lock), and re-checks the migrations table once it holds the lock, so no
// migration is applied twice. Open calls it; `mcpgate migrate` calls it
// directly.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	err := s.inTx(ctx, func(tx *txn) error { return s.prepareMigrations(ctx, tx) })
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []int
	for _, m := range migrations {
		done, err := s.migrate(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migrate: version %d: %w", m.version, err)
		}
		if done {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// prepareMigrations creates the migrations table and refuses a database a
// newer mcpgate has migrated: this binary would misread its schema.
func (s *Store) prepareMigrations(ctx context.Context, tx *txn) error {
	if err := s.lockMigrations(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
		version INTEGER PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return err
	}
	var newest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM migrations`).Scan(&newest); err != nil {
		return err
	}
	if known := migrations[len(migrations)-1].version; int(newest.Int64) > known {
		return fmt.Errorf("database schema is at version %d, newer than this mcpgate knows (%d): upgrade mcpgate", newest.Int64, known)
	}
	return nil
}

// migrate applies m unless it already is, and reports whether it did.
// Migration SQL runs on tx.Tx directly, bypassing the statement cache:
// each statement runs once, and DDL is no statement to keep prepared.
func (s *Store) migrate(ctx context.Context, m migration) (bool, error) {
	applied := false
	err := s.inTx(ctx, func(tx *txn) error {
		if err := s.lockMigrations(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, stmt := range m.stmts {
			if _, err := tx.ExecContext(ctx, s.d.types.Replace(stmt)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO migrations (version, applied_at) VALUES (?, ?)`),
			m.version, nanos(time.Now())); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}

func (s *Store) lockMigrations(ctx context.Context, tx *txn) error {
	if s.d.migrationLock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.migrationLock)
	return err
}
