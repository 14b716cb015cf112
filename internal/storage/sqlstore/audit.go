package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// defaultAuditLimit is ListAudit's page size when the query sets none.
const defaultAuditLimit = 1000

var auditRecords = record[storage.AuditRecord]{
	what: "audit record", table: "audit", key: []string{"seq"},
	cols: []string{"seq", "id", "at", "event_type", "subject", "client_id", "ip", "risk", "data", "prev_hash", "hash"},
	args: func(a storage.AuditRecord) []any {
		return []any{a.Seq, a.ID, nanos(a.Time), a.Type, a.Subject, a.ClientID, a.IP, a.Risk, a.Data, a.PrevHash, a.Hash}
	},
	scan: func(sc scanner) (a storage.AuditRecord, err error) {
		err = sc.Scan(&a.Seq, &a.ID, timeCol{&a.Time}, &a.Type, &a.Subject, &a.ClientID, &a.IP, &a.Risk,
			blobCol{&a.Data}, blobCol{&a.PrevHash}, blobCol{&a.Hash})
		return a, err
	},
}

// AppendAudit appends the record build returns, with the next Seq.
//
// SPEC AU-2: the chain must never fork, so appends from every instance are
// serialised on the single audit_head row (FOR UPDATE on PostgreSQL; the
// IMMEDIATE transaction on SQLite). Locking "the last audit row" instead
// would not do: under READ COMMITTED two appenders can lock the same last
// row one after the other and both chain to it. The head is read, the
// record built, inserted and the head moved on, all in one transaction.
// build's error is returned unchanged and nothing is appended.
func (s *Store) AppendAudit(ctx context.Context, build func(prev storage.AuditRecord, ok bool) (storage.AuditRecord, error)) (storage.AuditRecord, error) {
	var rec storage.AuditRecord
	err := s.inTx(ctx, func(tx *txn) error {
		prev, ok, err := s.auditHead(ctx, tx)
		if err != nil {
			return err
		}
		rec, err = build(prev, ok)
		if err != nil {
			return err
		}
		rec.Seq = prev.Seq + 1
		rec.Time = fromNanos(nanos(rec.Time)) // as a later read returns it: UTC
		if err := auditRecords.create(ctx, s, tx, rec); err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, rec.Seq, rec.Hash)
		return s.wrap("append audit: head", err)
	})
	if err != nil {
		return storage.AuditRecord{}, err
	}
	return rec, nil
}

// auditHead locks the head and returns the last record (ok is false for an
// empty chain). If retention pruned every record, the head alone still
// carries the last Seq and Hash, so the chain continues from it.
func (s *Store) auditHead(ctx context.Context, tx *txn) (storage.AuditRecord, bool, error) {
	var head storage.AuditRecord
	err := s.queryRow(ctx, tx, `SELECT seq, hash FROM audit_head WHERE id = 1`+s.d.forUpdate).
		Scan(&head.Seq, blobCol{&head.Hash})
	if err != nil {
		return head, false, s.wrap("append audit: head", err)
	}
	if head.Seq == 0 {
		return storage.AuditRecord{}, false, nil
	}
	last, err := auditRecords.scan(s.queryRow(ctx, tx, auditRecords.selectSQL("seq = ?"), head.Seq))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return head, true, nil
	case err != nil:
		return head, false, s.wrap("append audit: last record", err)
	}
	return last, true, nil
}

// ListAudit lists the records matching q in chain order.
func (s *Store) ListAudit(ctx context.Context, q storage.AuditQuery) ([]storage.AuditRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	w := new(filter).and("seq > ?")
	w.args = append(w.args, q.AfterSeq)
	w.eq("event_type", q.Type).eq("subject", q.Subject)
	// The page size rides on the ORDER BY clause, after the filter's args.
	return auditRecords.find(ctx, s, w.sql(), "seq LIMIT ?", append(w.args, limit)...)
}

// PruneAudit deletes records older than before and returns how many. It
// deletes only a prefix of the chain: instances' clocks differ, so a record
// older than before can follow a newer one, and deleting it would punch a
// hole that verification reports as tampering. The chain stays verifiable
// from the first kept record.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	n, err := s.exec(ctx, s.w, "DELETE FROM audit WHERE "+s.d.keyOrdered("audit", []string{"seq"},
		`at < ? AND seq < COALESCE((SELECT seq FROM audit WHERE at >= ? ORDER BY seq LIMIT 1), ?)`),
		nanos(before), nanos(before), int64(math.MaxInt64))
	return n, s.wrap("prune audit", err)
}
