package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// record binds a record type to its table: the INSERT, upsert, UPDATE and
// SELECT statements are generated from one column list, so they cannot
// drift from args and scan, which are written against the same list. The
// shared steps (create, get, CAS update, delete, list) live here once.
type record[T any] struct {
	what  string   // for error messages: "client"
	table string   // SQL table name
	key   []string // primary key columns, the first len(key) of cols
	cols  []string // every column, in args and scan order
	args  func(T) []any
	scan  func(scanner) (T, error)
}

func (r record[T]) list() string { return strings.Join(r.cols, ", ") }

// keyWhere is "k1 = ? AND k2 = ?".
func (r record[T]) keyWhere() string { return strings.Join(r.key, " = ? AND ") + " = ?" }

func (r record[T]) insertSQL() string {
	return "INSERT INTO " + r.table + " (" + r.list() + ") VALUES (" + placeholders(len(r.cols)) + ")"
}

// selectSQL reads whole rows matching where.
func (r record[T]) selectSQL(where string) string {
	return "SELECT " + r.list() + " FROM " + r.table + " WHERE " + where
}

// create inserts v; ErrAlreadyExists if its key is taken.
func (r record[T]) create(ctx context.Context, s *Store, q querier, v T) error {
	_, err := s.exec(ctx, q, r.insertSQL(), r.args(v)...)
	return s.wrap("create "+r.what, err)
}

// put inserts v or replaces the row with its key, in one statement.
func (r record[T]) put(ctx context.Context, s *Store, v T) error {
	sets := make([]string, 0, len(r.cols))
	for _, c := range r.cols[len(r.key):] {
		sets = append(sets, c+" = excluded."+c)
	}
	query := r.insertSQL() + " ON CONFLICT (" + strings.Join(r.key, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", ")
	_, err := s.exec(ctx, s.w, query, r.args(v)...)
	return s.wrap("put "+r.what, err)
}

// get reads the row with the given key.
func (r record[T]) get(ctx context.Context, s *Store, key ...any) (T, error) {
	v, err := r.scan(s.queryRow(ctx, s.r, r.selectSQL(r.keyWhere()), key...))
	return v, s.wrap("get "+r.what, err)
}

// update is the compare-and-swap updater: in one write transaction it reads
// the row (locked FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction
// holds the database write lock), calls fn, and writes fn's result. No other
// writer can change the row in between, so no update is lost. fn's error is
// returned unchanged. The key columns are not rewritten: fn cannot move a
// record onto another record's key.
func (r record[T]) update(ctx context.Context, s *Store, fn func(T) (T, error), key ...any) error {
	return s.inTx(ctx, func(tx *txn) error {
		old, err := r.scan(s.queryRow(ctx, tx, r.selectSQL(r.keyWhere())+s.d.forUpdate, key...))
		if err != nil {
			return s.wrap("update "+r.what, err)
		}
		v, err := fn(old)
		if err != nil {
			return err
		}
		query := "UPDATE " + r.table + " SET " + strings.Join(r.cols[len(r.key):], " = ?, ") + " = ? WHERE " + r.keyWhere()
		args := append(r.args(v)[len(r.key):], key...)
		_, err = s.exec(ctx, tx, query, args...)
		return s.wrap("update "+r.what, err)
	})
}

// delete deletes the row with the given key; ErrNotFound if there is none.
func (r record[T]) delete(ctx context.Context, s *Store, key ...any) error {
	n, err := s.exec(ctx, s.w, "DELETE FROM "+r.table+" WHERE "+r.keyWhere(), key...)
	if err != nil {
		return s.wrap("delete "+r.what, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: delete %s: %w", r.what, storage.ErrNotFound)
	}
	return nil
}

// find lists the rows matching where, in the given order.
func (r record[T]) find(ctx context.Context, s *Store, where, order string, args ...any) ([]T, error) {
	rows, err := s.query(ctx, s.r, r.selectSQL(where)+" ORDER BY "+order, args...)
	if err != nil {
		return nil, s.wrap("list "+r.what+"s", err)
	}
	out, err := collect(rows, r.scan)
	return out, s.wrap("list "+r.what+"s", err)
}

// filter builds a WHERE clause from optional equality conditions: an empty
// value matches everything.
type filter struct {
	where []string
	args  []any
}

func (f *filter) eq(col, v string) *filter {
	if v != "" {
		f.where = append(f.where, col+" = ?")
		f.args = append(f.args, v)
	}
	return f
}

func (f *filter) and(cond string) *filter {
	f.where = append(f.where, cond)
	return f
}

func (f *filter) sql() string {
	if len(f.where) == 0 {
		return "1 = 1"
	}
	return strings.Join(f.where, " AND ")
}
