package sqlstore

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between SQLite and PostgreSQL. Queries
// are written once in portable SQL with "?" placeholders; the dialect
// rewrites placeholders, column types and row locks.
type dialect struct {
	// dollar rewrites "?" placeholders to "$1", "$2", ... (PostgreSQL).
	dollar bool
	// forUpdate is appended to a SELECT that reads a row it is about to
	// change. PostgreSQL runs READ COMMITTED, so a CAS updater must lock the
	// row or two writers could both read the old version. SQLite has no row
	// locks and needs none: every write transaction begins IMMEDIATE and so
	// holds the database's single write lock from its first statement.
	forUpdate string
	// types maps the portable type names used in migrations to the dialect's.
	types *strings.Replacer
	// greatest names the scalar function returning the largest of its
	// arguments: GREATEST on PostgreSQL; on SQLite, MAX with two or more
	// arguments is that scalar function (with one, it is the aggregate).
	greatest string
	// migrationLock, run first in each migration transaction, serialises
	// concurrent migrators (two instances starting at once). Empty for
	// SQLite, where the IMMEDIATE transaction already does.
	migrationLock string
	// isUnique reports whether err is a unique or primary key violation.
	isUnique func(err error) bool
}

var sqliteDialect = &dialect{
	forUpdate: "",
	greatest:  "MAX",
	types:     strings.NewReplacer("{blob}", "BLOB"),
	isUnique: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
}

var postgresDialect = &dialect{
	dollar:    true,
	forUpdate: " FOR UPDATE",
	greatest:  "GREATEST",
	types:     strings.NewReplacer("{blob}", "BYTEA"),
	// The key is arbitrary but fixed: every mcpgate instance sharing the
	// database must use the same one.
	migrationLock: "SELECT pg_advisory_xact_lock(7305126472634931301)",
	isUnique: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505" // unique_violation
	},
}

// rebind rewrites the portable placeholders in q for the dialect. Queries
// never contain "?" inside string literals, so a plain scan is enough.
func (d *dialect) rebind(q string) string {
	if !d.dollar || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// keyOrdered rewrites the WHERE condition of an UPDATE or DELETE that may
// touch many rows of table so that, on PostgreSQL, the rows are locked in
// key order before the statement writes them. Two such statements (the kill
// switch on one instance, GC on another) otherwise lock rows in the orders
// their plans visit them, which differ, and deadlock; PostgreSQL then
// aborts one. Single-row writers cannot close a cycle with them. On SQLite,
// where a statement holds the whole database's write lock, where is
// returned as is. The placeholders in where are unchanged in number and
// order.
func (d *dialect) keyOrdered(table string, key []string, where string) string {
	if d.forUpdate == "" {
		return where
	}
	k := strings.Join(key, ", ")
	return "(" + k + ") IN (SELECT " + k + " FROM " + table + " WHERE " + where +
		" ORDER BY " + k + d.forUpdate + ")"
}
