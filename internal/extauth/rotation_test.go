package extauth

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// TestRotationWithoutRestart: the AS starts signing with a new kid; the
// first such token costs one JWKS fetch and passes; floods of unknown kids
// cost at most one fetch per MinRefetch.
func TestRotationWithoutRestart(t *testing.T) {
	as, v, clk := oktaAS(t)
	mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(0), "k1"))
	wantHits(t, as, 1)

	// Rotation at the AS: publish k2 next to k1 and sign with k2. The
	// gateway loaded its keys a while ago.
	as.publish(rsaJWK(rsaKey(0), "k1"), rsaJWK(rsaKey(1), "k2"))
	clk.Advance(10 * time.Minute)
	mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(1), "k2"))
	wantHits(t, as, 2)
	mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(0), "k1")) // the old key still works
	wantHits(t, as, 2)

	// 50 concurrent requests with a kid the AS has just published: one
	// fetch, and every request passes (latecomers find the fetched key).
	as.publish(rsaJWK(rsaKey(1), "k2"), rsaJWK(rsaKey(2), "k3"))
	clk.Advance(DefaultMinRefetch)
	k3 := oktaToken(as, clk.Now(), rsaKey(2), "k3")
	errs := concurrently(50, func() error { _, err := v.Verify(context.Background(), k3); return err })
	for _, err := range errs {
		if err != nil {
			t.Fatalf("k3 token: %v", err)
		}
	}
	wantHits(t, as, 3)

	// 50 concurrent requests with a kid nobody published: at most one
	// fetch, every request refused.
	clk.Advance(DefaultMinRefetch)
	bogus := oktaToken(as, clk.Now(), rsaKey(3), "made-up")
	for _, err := range concurrently(50, func() error { _, err := v.Verify(context.Background(), bogus); return err }) {
		wantInvalid(t, err, "unknown kid", bogus)
	}
	wantHits(t, as, 4)

	// Within MinRefetch, more unknown kids fetch nothing ...
	clk.Advance(DefaultMinRefetch - time.Second)
	_, err := v.Verify(context.Background(), oktaToken(as, clk.Now(), rsaKey(3), "made-up-2"))
	wantInvalid(t, err, "unknown kid", "")
	wantHits(t, as, 4)
	// ... and once it has passed, one more refetch is allowed.
	clk.Advance(time.Second)
	_, err = v.Verify(context.Background(), oktaToken(as, clk.Now(), rsaKey(3), "made-up-3"))
	wantInvalid(t, err, "unknown kid", "")
	wantHits(t, as, 5)

	// k1 was withdrawn at the k3 rotation: a token under it is refused.
	tok := oktaToken(as, clk.Now(), rsaKey(0), "k1")
	_, err = v.Verify(context.Background(), tok)
	wantInvalid(t, err, "unknown kid", tok)
}

// TestBackgroundRefresh: the periodic refresh picks up a new key and drops
// a withdrawn one without any request triggering a fetch.
func TestBackgroundRefresh(t *testing.T) {
	as, v, clk := oktaAS(t)
	mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(0), "k1"))
	as.publish(rsaJWK(rsaKey(1), "k2"))
	if err := v.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantHits(t, as, 2)
	// The clock has not moved, so an unknown kid could not refetch: k2 is
	// known only because the refresh loaded it.
	mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(1), "k2"))
	tok := oktaToken(as, clk.Now(), rsaKey(0), "k1")
	_, err := v.Verify(context.Background(), tok)
	wantInvalid(t, err, "unknown kid", tok)
	wantHits(t, as, 2)
}

// TestRunRefreshes drives Run with a short period and waits on the fake's
// JWKS handler, not on a timer.
func TestRunRefreshes(t *testing.T) {
	as := newFakeAS(t, "/oauth2/default", metaSuffixed)
	as.publish(rsaJWK(rsaKey(0), "k1"))
	clk := clock.New(t0)
	v := newVerifier(t, as, clk, func(o *Options) { o.RefreshEvery = time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()

	<-as.jwksServed // Run's first fetch: Run loads keys before any request
	as.publish(rsaJWK(rsaKey(1), "k2"))
	// The handler signals while holding the lock publish takes, so after
	// draining, the next signal is a fetch of the new set; Run fetches one
	// at a time, so the signal after that means the new set is in use.
	for len(as.jwksServed) > 0 {
		<-as.jwksServed
	}
	<-as.jwksServed
	<-as.jwksServed
	cancel()
	<-done
	n := as.jwksHits.Load()
	mustVerify(t, v, oktaToken(as, clk.Now(), rsaKey(1), "k2"))
	wantHits(t, as, n)
}

// TestJWKSFailureKeepsKeys: a failed refresh (AS down, empty or oversized
// key set) keeps the keys already loaded.
func TestJWKSFailureKeepsKeys(t *testing.T) {
	as, v, clk := oktaAS(t)
	tok := oktaToken(as, clk.Now(), rsaKey(0), "k1")
	mustVerify(t, v, tok)

	as.down.Store(true)
	if err := v.refresh(context.Background()); err == nil {
		t.Fatal("refresh succeeded with the AS down")
	}
	mustVerify(t, v, tok)
	as.down.Store(false)

	as.publish()
	if err := v.refresh(context.Background()); err == nil {
		t.Fatal("empty JWKS accepted")
	}
	mustVerify(t, v, tok)

	many := make([]jose.JSONWebKey, maxKeys+1)
	for i := range many {
		many[i] = rsaJWK(rsaKey(0), fmt.Sprint("k", i))
	}
	as.publish(many...)
	if err := v.refresh(context.Background()); err == nil {
		t.Fatal("JWKS with too many keys accepted")
	}
	mustVerify(t, v, tok)
}

func wantHits(t *testing.T, as *fakeAS, n int64) {
	t.Helper()
	if got := as.jwksHits.Load(); got != n {
		t.Fatalf("JWKS fetched %d times, want %d", got, n)
	}
}

// concurrently runs f n times at once and returns the results.
func concurrently(n int, f func() error) []error {
	errs := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range errs {
		wg.Go(func() {
			start.Wait()
			errs[i] = f()
		})
	}
	start.Done()
	wg.Wait()
	return errs
}
