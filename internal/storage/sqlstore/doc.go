// Package sqlstore is the SQL storage backend, serving SQLite (modernc.org/sqlite,
// WAL, busy timeout, immediate transactions) and PostgreSQL (pgx stdlib)
// through one small dialect struct, with embedded, versioned migrations.
package sqlstore
