package sqlstore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// Statements that write many rows (the kill switch, bulk deletes, GC) run
// on several instances at once. On PostgreSQL two of them locking the same
// rows in different orders deadlock, and the database aborts one: the kill
// switch would fail exactly when it is needed. They lock in key order
// instead. This races the kill switch against GC over families whose
// expiry order is the reverse of their ID order, with plain index scans
// forced (as a big table would get), so without ordered locking the two
// statements meet head-on.
func TestBulkWritersDoNotDeadlock(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, driver, dsn string) {
		ctx := t.Context()
		if driver == "postgres" {
			dsn += "&enable_seqscan=off&enable_bitmapscan=off&jit=off"
		}
		stores := twoInstances(t, driver, dsn)
		now := time.Unix(1_900_000_000, 0)
		for round := range 8 {
			for i := range 300 {
				id := fmt.Sprintf("r%d-f%03d", round, i)
				f := storage.RefreshFamily{ID: id, Subject: "alice", ExpiresAt: now.Add(-time.Duration(1+i) * time.Second)}
				if err := stores[0].CreateRefreshFamily(ctx, f, storage.RefreshToken{ID: "t" + id, FamilyID: id}); err != nil {
					t.Fatal(err)
				}
			}
			var (
				wg            sync.WaitGroup
				start         = make(chan struct{})
				revErr, gcErr error
			)
			wg.Go(func() {
				<-start
				_, revErr = stores[0].RevokeRefreshFamilies(ctx, storage.FamilyFilter{Subject: "alice"}, "kill", now)
			})
			wg.Go(func() {
				<-start
				_, gcErr = stores[1].GarbageCollect(ctx, now)
			})
			close(start)
			wg.Wait()
			if revErr != nil || gcErr != nil {
				t.Fatalf("round %d: kill switch: %v; GC: %v", round, revErr, gcErr)
			}
		}
	})
}
