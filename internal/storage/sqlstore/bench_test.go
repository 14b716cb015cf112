package sqlstore

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/testenv/pgtest"
)

// BenchmarkRotateRefreshToken measures the store's part of a refresh grant
// (SPEC PF-4) from many goroutines, each rotating its own family's chain.
func BenchmarkRotateRefreshToken(b *testing.B) {
	for _, driver := range []string{"sqlite", "postgres"} {
		b.Run(driver, func(b *testing.B) {
			s := benchStore(b, driver)
			ctx := b.Context()
			now := time.Unix(1_900_000_000, 0)
			var families atomic.Int64
			b.SetParallelism(16) // 16 x GOMAXPROCS goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				f := fmt.Sprint("f", families.Add(1))
				cur := f + "-0"
				if err := s.CreateRefreshFamily(ctx, storage.RefreshFamily{ID: f, ExpiresAt: now.Add(time.Hour)},
					storage.RefreshToken{ID: cur, FamilyID: f, SecretHash: make([]byte, 32)}); err != nil {
					b.Error(err)
					return
				}
				for i := 1; pb.Next(); i++ {
					next := fmt.Sprint(f, "-", i)
					_, err := s.RotateRefreshToken(ctx, storage.Rotation{
						OldID: cur, Now: now, GraceUntil: now.Add(30 * time.Second), SuccessorSealed: make([]byte, 64),
						Successor: storage.RefreshToken{ID: next, FamilyID: f, SecretHash: make([]byte, 32), ExpiresAt: now.Add(time.Hour)},
					})
					if err != nil {
						b.Error(err)
						return
					}
					cur = next
				}
			})
		})
	}
}

// BenchmarkAppendAudit measures appends to the audit chain, which every
// grant also makes.
func BenchmarkAppendAudit(b *testing.B) {
	for _, driver := range []string{"sqlite", "postgres"} {
		b.Run(driver, func(b *testing.B) {
			s := benchStore(b, driver)
			data := make([]byte, 300)
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, err := s.AppendAudit(b.Context(), func(prev storage.AuditRecord, ok bool) (storage.AuditRecord, error) {
						return storage.AuditRecord{ID: "e", Type: "token_refreshed", Time: time.Now(), Data: data,
							PrevHash: prev.Hash, Hash: make([]byte, 32)}, nil
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func benchStore(b *testing.B, driver string) *Store {
	var dsn string
	switch driver {
	case "sqlite":
		dsn = b.TempDir() + "/bench.db"
	case "postgres":
		dsn = pgtest.DSN(b, schemaPrefix)
	}
	s, err := Open(b.Context(), driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
