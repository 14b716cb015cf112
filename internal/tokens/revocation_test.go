package tokens

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

func famClaims(sid string) Claims {
	return Claims{SID: sid, JTI: "j-" + sid, Subject: "s-" + sid, IssuedAt: 1}
}

// Another instance's revocation reaches this one at its next poll, well
// within SPEC AS-5a's 5 s. Run in a synctest bubble: the ticker and the
// clock are fake, so the test waits for nothing real.
func TestCacheRunPicksUpOtherInstancesRevocations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := memory.New()
		rc := NewRevocationCache(store, CacheOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { rc.Run(ctx); close(done) }()
		synctest.Wait()
		if !rc.Ready() {
			t.Fatal("not ready after the first poll")
		}
		now := time.Now()
		err := store.AddRevocation(ctx, storage.Revocation{Kind: storage.RevokeFamily, Key: "f1",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if rc.IsRevoked(famClaims("f1")) {
			t.Fatal("revoked before any poll: the test proves nothing")
		}
		time.Sleep(DefaultPollEvery) // fake time: one tick
		synctest.Wait()
		if !rc.IsRevoked(famClaims("f1")) {
			t.Fatal("not revoked one PollEvery after the entry landed")
		}
		cancel()
		<-done
	})
}

// Failed polls keep the cache unready and are retried at the next tick.
func TestCacheRunRetriesAfterFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &flakyRevocations{RevocationStore: memory.New(), fail: 2}
		rc := NewRevocationCache(store, CacheOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go rc.Run(ctx)
		synctest.Wait()
		if rc.Ready() {
			t.Fatal("ready although the first load failed")
		}
		time.Sleep(2 * DefaultPollEvery)
		synctest.Wait()
		if !rc.Ready() || !rc.LastRefresh().Equal(time.Now()) {
			t.Fatalf("Ready = %v, LastRefresh = %v after failures cleared", rc.Ready(), rc.LastRefresh())
		}
	})
}

type flakyRevocations struct {
	storage.RevocationStore
	fail int
}

func (f *flakyRevocations) ListRevocations(ctx context.Context, since time.Time) ([]storage.Revocation, error) {
	if f.fail > 0 {
		f.fail--
		return nil, errors.New("database unavailable")
	}
	return f.RevocationStore.ListRevocations(ctx, since)
}

// An entry whose CreatedAt lags the last poll (a writer's clock behind
// ours, or a late commit) is still read thanks to the overlap.
func TestCacheOverlapCatchesLateEntries(t *testing.T) {
	clk := newClock()
	store := memory.New()
	rc := NewRevocationCache(store, CacheOptions{Now: clk.Now})
	if err := rc.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	late := clk.Now().Add(-DefaultOverlap + 2*time.Second) // before the last poll, inside the overlap
	store.AddRevocation(t.Context(), storage.Revocation{Kind: storage.RevokeToken, Key: "j1", CreatedAt: late,
		ExpiresAt: clk.Now().Add(time.Hour)})
	if err := rc.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !rc.IsRevoked(Claims{JTI: "j1"}) {
		t.Fatal("late entry missed")
	}
}

// Entries are dropped once their ExpiresAt passes: no token they affect can
// still be valid. Expired entries are not loaded at all.
func TestCachePrunesExpiredEntries(t *testing.T) {
	clk := newClock()
	store := memory.New()
	now := clk.Now()
	for _, r := range []storage.Revocation{
		{Kind: storage.RevokeFamily, Key: "short", CreatedAt: now, ExpiresAt: now.Add(time.Minute)},
		{Kind: storage.RevokeFamily, Key: "long", CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{Kind: storage.RevokeFamily, Key: "forever", CreatedAt: now},
		{Kind: storage.RevokeUser, Key: "u", NotBefore: now, CreatedAt: now, ExpiresAt: now.Add(time.Minute)},
		{Kind: storage.RevokeFamily, Key: "gone", CreatedAt: now, ExpiresAt: now.Add(-time.Second)},
	} {
		store.AddRevocation(t.Context(), r)
	}
	rc := NewRevocationCache(store, CacheOptions{Now: clk.Now})
	if err := rc.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rc.Len() != 4 || rc.IsRevoked(famClaims("gone")) {
		t.Fatalf("Len = %d after load; want 4 (expired entry skipped)", rc.Len())
	}
	clk.Advance(time.Minute + time.Second)
	if err := rc.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rc.Len() != 2 || rc.IsRevoked(famClaims("short")) || !rc.IsRevoked(famClaims("long")) ||
		!rc.IsRevoked(famClaims("forever")) {
		t.Fatalf("after prune: Len = %d", rc.Len())
	}
}

// The epoch has second granularity: iat <= NotBefore's second is revoked,
// the next second is not. Epochs only move later, whatever the order in
// which entries arrive.
func TestCacheUserEpoch(t *testing.T) {
	clk := newClock() // x.5 s
	rc := NewRevocationCache(memory.New(), CacheOptions{Now: clk.Now})
	epoch := clk.Now()
	rc.Add(storage.Revocation{Kind: storage.RevokeUser, Key: "alice", NotBefore: epoch, ExpiresAt: epoch.Add(time.Hour)})
	sec := epoch.Unix()
	for iat, want := range map[int64]bool{sec - 1: true, sec: true, sec + 1: false} {
		if got := rc.IsRevoked(Claims{Subject: "alice", IssuedAt: iat}); got != want {
			t.Errorf("iat %+d s: revoked = %v; want %v", iat-sec, got, want)
		}
	}
	if rc.IsRevoked(Claims{Subject: "bob", IssuedAt: sec - 1}) {
		t.Error("another user's token revoked")
	}
	rc.Add(storage.Revocation{Kind: storage.RevokeUser, Key: "alice", NotBefore: epoch.Add(-time.Minute),
		ExpiresAt: epoch.Add(time.Minute)})
	if !rc.IsRevoked(Claims{Subject: "alice", IssuedAt: sec}) {
		t.Error("an older epoch moved the epoch back")
	}
	clk.Advance(2 * time.Minute)
	if err := rc.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !rc.IsRevoked(Claims{Subject: "alice", IssuedAt: sec}) {
		t.Error("a shorter ExpiresAt let the epoch be pruned early")
	}
}
