package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite spends about a quarter of a refresh rotation's CPU parsing SQL,
// and database/sql prepares every query afresh, so on SQLite the store
// keeps each query prepared. (pgx already caches prepared statements per
// connection; PostgreSQL queries go straight through.)
//
// A statement prepared on the write pool lives on its single connection;
// tx.StmtContext reuses it inside a transaction. It cannot be prepared
// inside one (preparing on the pool would wait for the connection the
// transaction holds), so a query first seen in a transaction runs
// unprepared and is prepared once the transaction has ended.

// stmtCache holds the statements prepared on one pool, by query text.
type stmtCache struct {
	db *sql.DB
	m  sync.Map // string -> *sql.Stmt
}

// lookup returns the cached statement for query, or nil.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if v, ok := c.m.Load(query); ok {
		return v.(*sql.Stmt)
	}
	return nil
}

// get returns the statement for query, preparing it on a miss. It returns
// nil if preparing fails: the caller runs the query unprepared, which
// reports the error if it is real.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if st := c.lookup(query); st != nil {
		return st
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if v, loaded := c.m.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	return st
}

func (c *stmtCache) close() {
	c.m.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
}

// txn is a write transaction. It remembers the queries it ran unprepared
// so that inTx can prepare them once the connection is free again.
type txn struct {
	*sql.Tx
	misses []string
}

// runner runs one query: a prepared statement, or a querier with the
// query text bound.
type runner interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

type unprepared struct {
	q     querier
	query string
}

func (u unprepared) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return u.q.ExecContext(ctx, u.query, args...)
}

func (u unprepared) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return u.q.QueryContext(ctx, u.query, args...)
}

func (u unprepared) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return u.q.QueryRowContext(ctx, u.query, args...)
}

// on returns what runs query (portable SQL) on q: the write pool, the read
// pool or a transaction.
func (s *Store) on(ctx context.Context, q querier, query string) runner {
	query = s.q(query)
	if s.ws == nil {
		return unprepared{q, query}
	}
	switch q := q.(type) {
	case *txn:
		if st := s.ws.lookup(query); st != nil {
			return q.StmtContext(ctx, st)
		}
		q.misses = append(q.misses, query)
	case *sql.DB:
		c := s.ws
		if q == s.r {
			c = s.rs
		}
		if st := c.get(ctx, query); st != nil {
			return st
		}
	}
	return unprepared{q, query}
}

// queryRow, query and exec run portable SQL on q.
func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return s.on(ctx, q, query).QueryRowContext(ctx, args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return s.on(ctx, q, query).QueryContext(ctx, args...)
}

// exec returns the number of rows the statement affected.
func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (int, error) {
	res, err := s.on(ctx, q, query).ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
