package memory

import (
	"context"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// defaultAuditLimit is what a zero AuditQuery.Limit means (storage.AuditQuery).
const defaultAuditLimit = 1000

// AppendAudit calls build under the store lock, so appends are serialised
// and the chain never forks (SPEC AU-2). After PruneAudit has removed every
// record, build still gets the last Seq and Hash: the chain goes on, so a
// truncation cannot pass for a fresh start and Seq is never reused.
func (s *Store) AppendAudit(_ context.Context, build func(prev storage.AuditRecord, ok bool) (storage.AuditRecord, error)) (storage.AuditRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := s.auditHead.Seq > 0
	rec, err := build(cloneAuditRecord(s.auditHead), ok)
	if err != nil {
		return storage.AuditRecord{}, err
	}
	rec = cloneAuditRecord(rec)
	rec.Seq = s.auditHead.Seq + 1
	s.audit = append(s.audit, rec)
	s.auditHead = cloneAuditRecord(rec)
	return cloneAuditRecord(rec), nil
}

func auditMatches(r storage.AuditRecord, q storage.AuditQuery) bool {
	return r.Seq > q.AfterSeq && (q.Type == "" || r.Type == q.Type) && (q.Subject == "" || r.Subject == q.Subject)
}

// ListAudit returns matching records in ascending Seq, at most q.Limit.
func (s *Store) ListAudit(_ context.Context, q storage.AuditQuery) ([]storage.AuditRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := q.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	var out []storage.AuditRecord
	for _, r := range s.audit {
		if len(out) == limit {
			break
		}
		if auditMatches(r, q) {
			out = append(out, cloneAuditRecord(r))
		}
	}
	return out, nil
}

// PruneAudit deletes the longest prefix of the chain whose records are
// older than before. Instances' clocks differ, so a record older than before
// can follow a newer one; deleting it would punch a hole that verification
// reports as tampering. The chain stays verifiable from the first kept record.
func (s *Store) PruneAudit(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(s.audit) && s.audit[n].Time.Before(before) {
		n++
	}
	s.audit = slices.Delete(s.audit, 0, n)
	if len(s.audit) == 0 {
		s.auditHead = storage.AuditRecord{Seq: s.auditHead.Seq, Hash: s.auditHead.Hash}
	}
	return n, nil
}
