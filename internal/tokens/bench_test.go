package tokens

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

func BenchmarkMintES256(b *testing.B) {
	f := newFixture(b, memory.New())
	g := testGrant()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.mint.Mint(g); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyES256(b *testing.B) {
	f := newFixture(b, memory.New())
	tok, _ := f.mustMint(b, testGrant())
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.ver.Verify(ctx, tok, testResource); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReferenceVerifyES256 is SPEC PF-3's "reference verify": the
// standard library's ES256 check of the same token (split, decode, hash,
// ecdsa.Verify), no header or claim checks. PF-3 wants Verify within
// 1.15x of it.
func BenchmarkReferenceVerifyES256(b *testing.B) {
	f := newFixture(b, memory.New())
	tok, _ := f.mustMint(b, testGrant())
	pub := &f.keys.priv.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		i := strings.LastIndexByte(tok, '.')
		sig, err := b64.DecodeString(tok[i+1:])
		if err != nil || len(sig) != 64 {
			b.Fatal("bad signature encoding")
		}
		sum := sha256.Sum256([]byte(tok[:i]))
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pub, sum[:], r, s) {
			b.Fatal("reference verify failed")
		}
	}
}

// rotateFixture is a fixture on SQLite in a temp dir with the real clock,
// as the token endpoint runs it (SPEC PF-4).
func rotateFixture(b *testing.B) *fixture {
	f := newFixture(b, openSQLite(b))
	f.ref.Now = time.Now
	return f
}

func startBench(b *testing.B, f *fixture) (string, error) {
	_, h, err := f.ref.Start(b.Context(), storage.RefreshFamily{
		ClientID: "client-a", Subject: "local:alice", Resource: testResource, Scopes: []string{"tools:read"},
	})
	return h, err
}

// BenchmarkRotateSQLite is one refresh rotation (lookup, checks, seal,
// atomic rotate) on SQLite in WAL mode, serially.
func BenchmarkRotateSQLite(b *testing.B) {
	f := rotateFixture(b)
	h, err := startBench(b, f)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		res, err := f.ref.Rotate(ctx, h, "client-a")
		if err != nil {
			b.Fatal(err)
		}
		h = res.Handle
	}
}

// BenchmarkRotateSQLiteParallel rotates 32 independent families at once
// (PF-4's 32 connections, with GOMAXPROCS=2: -cpu 2).
func BenchmarkRotateSQLiteParallel(b *testing.B) {
	f := rotateFixture(b)
	ctx := b.Context()
	b.SetParallelism(16)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		h, err := startBench(b, f)
		if err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			res, err := f.ref.Rotate(ctx, h, "client-a")
			if err != nil {
				b.Error(err)
				return
			}
			h = res.Handle
		}
	})
}
