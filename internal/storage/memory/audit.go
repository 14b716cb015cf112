package memory

import (
	"context"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// defaultAuditLimit is what a zero AuditQuery.Limit means (storage.AuditQuery).
const defaultAuditLimit = 1000

// AppendAudit calls build under the store lock, so appends are serialised
// and the chain never forks (SPEC AU-2). Seq keeps counting after pruning;
// once every record is pruned, build is told the chain is empty.
func (s *Store) AppendAudit(_ context.Context, build func(prev storage.AuditRecord, ok bool) (storage.AuditRecord, error)) (storage.AuditRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var prev storage.AuditRecord
	ok := len(s.audit) > 0
	if ok {
		prev = cloneAuditRecord(s.audit[len(s.audit)-1])
	}
	rec, err := build(prev, ok)
	if err != nil {
		return storage.AuditRecord{}, err
	}
	rec = cloneAuditRecord(rec)
	rec.Seq = s.auditSeq + 1
	s.auditSeq = rec.Seq
	s.audit = append(s.audit, rec)
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

// PruneAudit deletes records whose Time is before before. Records are
// appended in Seq order, not necessarily in Time order, so it checks each.
func (s *Store) PruneAudit(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.audit[:0]
	for _, r := range s.audit {
		if !r.Time.Before(before) {
			kept = append(kept, r)
		}
	}
	n := len(s.audit) - len(kept)
	clear(s.audit[len(kept):])
	s.audit = kept
	return n, nil
}
