package sqlstore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// The conformance suite races goroutines on one Store. These tests race two
// Stores on one database, as two mcpgate instances (or processes) would:
// then only the database's locks, not anything in this process, keep the
// atomic operations atomic.

const racers = 16

// raceOn runs f(i, store) for i in [0, racers), alternating between the
// stores, released together from a barrier.
func raceOn(stores []*Store, f func(i int, s *Store)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			f(i, stores[i%len(stores)])
		})
	}
	close(start)
	wg.Wait()
}

func twoInstances(t *testing.T, driver, dsn string) []*Store {
	return []*Store{openTest(t, driver, dsn), openTest(t, driver, dsn)}
}

func TestInstancesAuditChainDoesNotFork(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, driver, dsn string) {
		stores := twoInstances(t, driver, dsn)
		errs := make([]error, racers)
		raceOn(stores, func(i int, s *Store) {
			_, errs[i] = s.AppendAudit(t.Context(), func(prev storage.AuditRecord, ok bool) (storage.AuditRecord, error) {
				rec := storage.AuditRecord{ID: fmt.Sprint("e", i), Type: "x", Time: time.Unix(1, 0), Data: []byte(fmt.Sprint(i))}
				if ok {
					rec.PrevHash = prev.Hash
				}
				sum := sha256.Sum256(append(bytes.Clone(rec.PrevHash), rec.Data...))
				rec.Hash = sum[:]
				return rec, nil
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
		}
		l, err := stores[0].ListAudit(t.Context(), storage.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(l) != racers {
			t.Fatalf("chain has %d records, want %d", len(l), racers)
		}
		for i, r := range l {
			if r.Seq != int64(i+1) {
				t.Fatalf("record %d has Seq %d", i, r.Seq)
			}
			if i > 0 && !bytes.Equal(r.PrevHash, l[i-1].Hash) {
				t.Fatalf("chain forks at Seq %d", r.Seq)
			}
		}
	})
}

func TestInstancesAtomic(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, driver, dsn string) {
		ctx := t.Context()
		stores := twoInstances(t, driver, dsn)
		now := time.Unix(1_900_000_000, 0)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(stores[0].CreateAuthCode(ctx, storage.AuthCode{Hash: []byte("code"), ExpiresAt: now.Add(time.Minute)}))
		must(stores[0].CreateRefreshFamily(ctx, storage.RefreshFamily{ID: "f1"}, storage.RefreshToken{ID: "t1", FamilyID: "f1"}))

		codeErrs := make([]error, racers)
		raceOn(stores, func(i int, s *Store) {
			_, codeErrs[i] = s.ConsumeAuthCode(ctx, []byte("code"), now.Add(time.Duration(i)*time.Second))
		})
		oneWins(t, "ConsumeAuthCode", codeErrs, storage.ErrConsumed)

		rotErrs := make([]error, racers)
		raceOn(stores, func(i int, s *Store) {
			_, rotErrs[i] = s.RotateRefreshToken(ctx, storage.Rotation{
				OldID: "t1", Successor: storage.RefreshToken{ID: fmt.Sprint("s", i), FamilyID: "f1"}, Now: now,
			})
		})
		oneWins(t, "RotateRefreshToken", rotErrs, storage.ErrConsumed)

		leaseErrs := make([]error, racers)
		raceOn(stores, func(i int, s *Store) {
			leaseErrs[i] = s.AcquireLease(ctx, "rotation", fmt.Sprint("instance-", i), now, now.Add(time.Minute))
		})
		oneWins(t, "AcquireLease", leaseErrs, storage.ErrLeaseHeld)

		// Compare-and-swap updaters lose no write.
		must(stores[0].CreateClient(ctx, storage.Client{ID: "c1"}))
		updErrs := make([]error, racers)
		raceOn(stores, func(i int, s *Store) {
			updErrs[i] = s.UpdateClient(ctx, "c1", func(c storage.Client) (storage.Client, error) {
				c.Scopes = append(c.Scopes, fmt.Sprint(i))
				return c, nil
			})
		})
		for _, err := range updErrs {
			must(err)
		}
		c, err := stores[1].GetClient(ctx, "c1")
		must(err)
		if len(c.Scopes) != racers {
			t.Errorf("client has %d scopes after %d concurrent updates: %v", len(c.Scopes), racers, c.Scopes)
		}
	})
}

func oneWins(t *testing.T, what string, errs []error, loss error) {
	t.Helper()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loss):
			t.Errorf("%s %d: %v, want %v", what, i, err, loss)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d winners, want 1", what, wins)
	}
}
