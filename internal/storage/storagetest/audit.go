package storagetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var auditTests = []testCase{
	{"AppendChains", testAuditAppend},
	{"BuildErrorAppendsNothing", testAuditBuildError},
	{"ListQuery", testAuditList},
	{"Prune", testAuditPrune},
	{"PruneOnlyAPrefix", testAuditPrunePrefix},
	{"PruneAllKeepsTheHead", testAuditPruneAll},
	{"DuplicateIDs", testAuditDuplicateIDs},
}

// chained returns a build function that links rec to the chain the way the
// audit package does (SPEC AU-2): PrevHash is the previous Hash and Hash is
// SHA-256 over PrevHash and Data.
func chained(rec storage.AuditRecord) func(storage.AuditRecord, bool) (storage.AuditRecord, error) {
	return func(prev storage.AuditRecord, ok bool) (storage.AuditRecord, error) {
		rec.PrevHash = nil
		if ok {
			rec.PrevHash = bytes.Clone(prev.Hash)
		}
		sum := sha256.Sum256(append(bytes.Clone(rec.PrevHash), rec.Data...))
		rec.Hash = sum[:]
		return rec, nil
	}
}

// appendAll appends recs in order and returns them as stored.
func appendAll(t *testing.T, s storage.Store, recs ...storage.AuditRecord) []storage.AuditRecord {
	t.Helper()
	out := make([]storage.AuditRecord, len(recs))
	for i, r := range recs {
		got, err := s.AppendAudit(t.Context(), chained(r))
		must(t, err, "AppendAudit")
		out[i] = got
	}
	return out
}

// verifyChain checks that l is a gap-free run of Seq starting at first and
// that every record links to the one before it.
func verifyChain(t *testing.T, l []storage.AuditRecord, first int64) {
	t.Helper()
	for i, r := range l {
		if want := first + int64(i); r.Seq != want {
			t.Fatalf("record %d has Seq %d, want %d", i, r.Seq, want)
		}
		sum := sha256.Sum256(append(bytes.Clone(r.PrevHash), r.Data...))
		if !bytes.Equal(r.Hash, sum[:]) {
			t.Fatalf("record Seq %d: Hash does not cover PrevHash and Data", r.Seq)
		}
		if i > 0 && !bytes.Equal(r.PrevHash, l[i-1].Hash) {
			t.Fatalf("record Seq %d: PrevHash is not the Hash of Seq %d", r.Seq, l[i-1].Seq)
		}
	}
}

func testAuditAppend(t *testing.T, s storage.Store) {
	// Indexed, not appended: a backend may retry build, and the last call
	// is the one whose record it keeps.
	prevs, oks := make([]storage.AuditRecord, 3), make([]bool, 3)
	var want []storage.AuditRecord
	for i := range 3 {
		rec := newAuditRecord(fmt.Sprint("e", i), "token_issued", "alice", at(time.Duration(i)*time.Second))
		rec.Seq = 99 // the store assigns Seq, whatever build says
		build := chained(rec)
		got, err := s.AppendAudit(t.Context(), func(prev storage.AuditRecord, ok bool) (storage.AuditRecord, error) {
			prevs[i], oks[i] = prev, ok
			return build(prev, ok)
		})
		must(t, err, "AppendAudit")
		rec, _ = build(prevOf(want), len(want) > 0)
		rec.Seq = int64(i + 1)
		if i > 0 { // the first record has no PrevHash
			requireAllSet(t, rec)
		}
		check(t, fmt.Sprint("record returned by append ", i+1), got, rec)
		want = append(want, rec)
	}

	if oks[0] {
		t.Error("build of the first record was told a previous record exists")
	}
	check(t, "prev handed to the first build", prevs[0], storage.AuditRecord{})
	for i := 1; i < len(prevs); i++ {
		if !oks[i] {
			t.Errorf("build of record %d was told the chain is empty", i+1)
		}
		check(t, fmt.Sprint("prev handed to build of record ", i+1), prevs[i], want[i-1])
	}
	l, err := s.ListAudit(t.Context(), storage.AuditQuery{})
	must(t, err, "ListAudit")
	check(t, "audit chain", l, want)
	verifyChain(t, l, 1)
}

func prevOf(l []storage.AuditRecord) storage.AuditRecord {
	if len(l) == 0 {
		return storage.AuditRecord{}
	}
	return l[len(l)-1]
}

func testAuditBuildError(t *testing.T, s storage.Store) {
	_, err := s.AppendAudit(t.Context(), func(storage.AuditRecord, bool) (storage.AuditRecord, error) {
		return newAuditRecord("bad", "x", "alice", at(0)), errBoom
	})
	if err != errBoom { // identity, not errors.Is: the contract is "returned unchanged"
		t.Fatalf("AppendAudit whose build failed: got error %v, want errBoom itself", err)
	}
	first := appendAll(t, s, newAuditRecord("e1", "token_issued", "alice", at(0)))[0]
	if first.Seq != 1 {
		t.Errorf("first record after a failed append has Seq %d, want 1", first.Seq)
	}

	var sawPrev storage.AuditRecord
	_, err = s.AppendAudit(t.Context(), func(prev storage.AuditRecord, _ bool) (storage.AuditRecord, error) {
		sawPrev = prev
		return newAuditRecord("bad", "x", "alice", at(0)), errBoom
	})
	if err != errBoom {
		t.Fatalf("AppendAudit whose build failed: got error %v, want errBoom itself", err)
	}
	check(t, "prev handed to a failing build", sawPrev, first)
	second := appendAll(t, s, newAuditRecord("e2", "token_issued", "alice", at(time.Second)))[0]
	if second.Seq != 2 {
		t.Errorf("record after a failed append has Seq %d, want 2", second.Seq)
	}
	l, err := s.ListAudit(t.Context(), storage.AuditQuery{})
	must(t, err, "ListAudit")
	check(t, "chain after failed appends", l, []storage.AuditRecord{first, second})
}

func testAuditList(t *testing.T, s storage.Store) {
	l, err := s.ListAudit(t.Context(), storage.AuditQuery{})
	must(t, err, "ListAudit of an empty store")
	check(t, "audit of an empty store", l, nil)

	all := appendAll(t, s,
		newAuditRecord("e1", "login_failed", "alice", at(0)),
		newAuditRecord("e2", "token_issued", "alice", at(time.Second)),
		newAuditRecord("e3", "token_issued", "bob", at(2*time.Second)),
		newAuditRecord("e4", "login_failed", "bob", at(3*time.Second)),
		newAuditRecord("e5", "token_issued", "alice", at(4*time.Second)),
		newAuditRecord("e6", "token_issued", "alice", at(5*time.Second)),
	)
	pick := func(seqs ...int) []storage.AuditRecord {
		var out []storage.AuditRecord
		for _, n := range seqs {
			out = append(out, all[n-1])
		}
		return out
	}
	for _, tc := range []struct {
		q    storage.AuditQuery
		want []storage.AuditRecord
	}{
		{storage.AuditQuery{}, all},
		{storage.AuditQuery{AfterSeq: 4}, pick(5, 6)},
		{storage.AuditQuery{AfterSeq: 6}, nil},
		{storage.AuditQuery{Type: "token_issued"}, pick(2, 3, 5, 6)},
		{storage.AuditQuery{Subject: "bob"}, pick(3, 4)},
		{storage.AuditQuery{Type: "token_issued", Subject: "alice"}, pick(2, 5, 6)},
		{storage.AuditQuery{Limit: 2}, pick(1, 2)},
		{storage.AuditQuery{AfterSeq: 2, Limit: 3}, pick(3, 4, 5)},
		{storage.AuditQuery{AfterSeq: 1, Type: "token_issued", Subject: "alice", Limit: 2}, pick(2, 5)},
		{storage.AuditQuery{Type: "nothing"}, nil},
	} {
		l, err := s.ListAudit(t.Context(), tc.q)
		must(t, err, "ListAudit")
		check(t, fmt.Sprintf("ListAudit(%+v)", tc.q), l, tc.want)
	}
}

// Retention removes the oldest records; the chain carries on from the last
// record, and Seq keeps counting.
func testAuditPrune(t *testing.T, s storage.Store) {
	all := appendAll(t, s,
		newAuditRecord("e1", "x", "alice", at(0)),
		newAuditRecord("e2", "x", "alice", at(time.Minute)),
		newAuditRecord("e3", "x", "alice", at(2*time.Minute)),
		newAuditRecord("e4", "x", "alice", at(3*time.Minute)),
	)
	prune(t, s, at(2*time.Minute), 2) // strictly older than before
	prune(t, s, at(2*time.Minute), 0)
	l, err := s.ListAudit(t.Context(), storage.AuditQuery{})
	must(t, err, "ListAudit")
	check(t, "chain after pruning", l, all[2:])

	next := appendAll(t, s, newAuditRecord("e5", "x", "alice", at(4*time.Minute)))[0]
	if next.Seq != 5 {
		t.Errorf("record appended after pruning has Seq %d, want 5", next.Seq)
	}
	l, err = s.ListAudit(t.Context(), storage.AuditQuery{})
	must(t, err, "ListAudit")
	verifyChain(t, l, 3)
}

func prune(t *testing.T, s storage.Store, before time.Time, want int) {
	t.Helper()
	n, err := s.PruneAudit(t.Context(), before)
	must(t, err, "PruneAudit")
	if n != want {
		t.Errorf("PruneAudit(base%+v) = %d, want %d", before.Sub(base), n, want)
	}
}

// Instances' clocks differ, so Time need not rise with Seq. Pruning only a
// prefix of the chain keeps it verifiable from the first kept record: a
// hole in the middle would read as tampering (SPEC AU-2).
func testAuditPrunePrefix(t *testing.T, s storage.Store) {
	all := appendAll(t, s,
		newAuditRecord("e1", "x", "alice", at(0)),
		newAuditRecord("e2", "x", "alice", at(time.Minute)),
		newAuditRecord("e3", "x", "alice", at(3*time.Minute)),
		newAuditRecord("e4", "x", "alice", at(2*time.Minute)), // a slower clock
	)
	prune(t, s, at(150*time.Second), 2)
	l, err := s.ListAudit(t.Context(), storage.AuditQuery{})
	must(t, err, "ListAudit")
	check(t, "chain after pruning", l, all[2:])
	verifyChain(t, l, 3)
}

// When retention removes every record, the next append still links to the
// last one: build is told the chain goes on (ok) and gets at least its Seq
// and Hash, so truncation cannot pass for a fresh chain and Seq, the cursor
// ListAudit readers resume from, is never reused.
func testAuditPruneAll(t *testing.T, s storage.Store) {
	all := appendAll(t, s,
		newAuditRecord("e1", "x", "alice", at(0)),
		newAuditRecord("e2", "x", "alice", at(time.Minute)),
	)
	prune(t, s, at(time.Hour), 2)
	var prev storage.AuditRecord
	var ok bool
	got, err := s.AppendAudit(t.Context(), func(p storage.AuditRecord, o bool) (storage.AuditRecord, error) {
		prev, ok = p, o
		return chained(newAuditRecord("e3", "x", "alice", at(2*time.Hour)))(p, o)
	})
	must(t, err, "AppendAudit after pruning everything")
	if !ok || prev.Seq != 2 || !bytes.Equal(prev.Hash, all[1].Hash) {
		t.Errorf("build after pruning everything got ok=%v prev.Seq=%d prev.Hash=%x, want true, 2, %x",
			ok, prev.Seq, prev.Hash, all[1].Hash)
	}
	if got.Seq != 3 {
		t.Errorf("record appended after pruning everything has Seq %d, want 3", got.Seq)
	}
	l, err := s.ListAudit(t.Context(), storage.AuditQuery{AfterSeq: 2})
	must(t, err, "ListAudit")
	check(t, "chain after pruning everything", l, []storage.AuditRecord{got})
}

// The store keys the chain by Seq and does not require AuditRecord.ID to be
// unique (the audit package makes it a UUIDv7): a repeated ID is appended,
// never refused, so the chain cannot lose an event to an ID collision.
func testAuditDuplicateIDs(t *testing.T, s storage.Store) {
	recs := appendAll(t, s,
		newAuditRecord("same", "login", "alice", at(0)),
		newAuditRecord("same", "logout", "alice", at(time.Second)))
	l, err := s.ListAudit(t.Context(), storage.AuditQuery{})
	must(t, err, "ListAudit")
	check(t, "records sharing an ID", l, recs)
	verifyChain(t, l, 1)
}
