// Package ratelimittest is the conformance suite every ratelimit.Limiter
// backend runs from its own test file, so the in-memory and Redis
// limiters answer every sequence of requests alike (STYLE: dex
// storage/conformance).
package ratelimittest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// Factory returns a new, empty limiter. With a clock, the limiter's time
// is the clock's and nothing else; with nil, it runs on real time (for
// Redis, the server's TIME, the production path).
type Factory func(t *testing.T, c *clock.Clock) ratelimit.Limiter

// start is where every clock-driven test begins: a whole second, so
// microsecond rounding cannot differ between backends.
var start = time.Unix(1_800_000_000, 0)

// Run runs every conformance test against newLimiter.
func Run(t *testing.T, newLimiter Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"BurstThenRefusal", testBurstThenRefusal},
		{"ExactValues", testExactValues},
		{"RefusalCostsNothing", testRefusalCostsNothing},
		{"IndependentKeys", testIndependentKeys},
		{"IndependentLimits", testIndependentLimits},
		{"IdleKeyStartsFull", testIdleKeyStartsFull},
		{"Concurrent", testConcurrent},
		{"RealTimeRefill", testRealTimeRefill},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newLimiter) })
	}
}

// allow calls l and fails the test on an error.
func allow(t *testing.T, l ratelimit.Limiter, lim ratelimit.Limit, key string) ratelimit.Result {
	t.Helper()
	r, err := l.Allow(t.Context(), lim, key)
	if err != nil {
		t.Fatalf("Allow(%s, %q): %v", lim.Name, key, err)
	}
	if r.Limit != lim {
		t.Fatalf("Result.Limit = %+v, want %+v", r.Limit, lim)
	}
	return r
}

// want is the part of a Result a test checks exactly.
type want struct {
	allowed           bool
	remaining         int
	retryAfter, reset time.Duration
}

func check(t *testing.T, step string, got ratelimit.Result, w want) {
	t.Helper()
	g := want{got.Allowed, got.Remaining, got.RetryAfter, got.ResetAfter}
	if g != w {
		t.Fatalf("%s: got allowed=%v remaining=%d retry=%v reset=%v; want allowed=%v remaining=%d retry=%v reset=%v",
			step, g.allowed, g.remaining, g.retryAfter, g.reset, w.allowed, w.remaining, w.retryAfter, w.reset)
	}
}

func testBurstThenRefusal(t *testing.T, newLimiter Factory) {
	c := clock.New(start)
	l := newLimiter(t, c)
	lim := ratelimit.Limit{Name: "burst", Burst: 5, Every: time.Minute}
	for i := range 5 {
		if r := allow(t, l, lim, "k"); !r.Allowed {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	for i := range 3 {
		if r := allow(t, l, lim, "k"); r.Allowed {
			t.Fatalf("request %d past the burst allowed", 6+i)
		}
	}
}

// testExactValues pins Remaining, RetryAfter and ResetAfter through a
// burst, refusals and refills: they become the RateLimit headers, so both
// backends must compute them identically.
func testExactValues(t *testing.T, newLimiter Factory) {
	c := clock.New(start)
	l := newLimiter(t, c)
	lim := ratelimit.Limit{Name: "exact", Burst: 3, Every: 20 * time.Second}
	s := time.Second
	check(t, "1st", allow(t, l, lim, "k"), want{true, 2, 0, 20 * s})
	check(t, "2nd", allow(t, l, lim, "k"), want{true, 1, 0, 40 * s})
	check(t, "3rd", allow(t, l, lim, "k"), want{true, 0, 0, 60 * s})
	check(t, "4th", allow(t, l, lim, "k"), want{false, 0, 20 * s, 60 * s})
	c.Advance(5 * s)
	check(t, "after 5s", allow(t, l, lim, "k"), want{false, 0, 15 * s, 55 * s})
	c.Advance(15*s - time.Microsecond)
	check(t, "1µs early", allow(t, l, lim, "k"), want{false, 0, time.Microsecond, 40*s + time.Microsecond})
	c.Advance(time.Microsecond)
	check(t, "on time", allow(t, l, lim, "k"), want{true, 0, 0, 60 * s})
	c.Advance(50 * s)
	check(t, "after 50s", allow(t, l, lim, "k"), want{true, 1, 0, 30 * s})
	c.Advance(time.Hour)
	check(t, "after an hour", allow(t, l, lim, "k"), want{true, 2, 0, 20 * s})
}

// A refused request must not use up quota: otherwise a client retrying
// early would push its own recovery further away for ever.
func testRefusalCostsNothing(t *testing.T, newLimiter Factory) {
	c := clock.New(start)
	l := newLimiter(t, c)
	lim := ratelimit.Limit{Name: "free", Burst: 1, Every: time.Minute}
	allow(t, l, lim, "k")
	for range 10 {
		allow(t, l, lim, "k")
	}
	c.Advance(time.Minute)
	if r := allow(t, l, lim, "k"); !r.Allowed {
		t.Fatal("refused requests consumed future quota")
	}
}

func testIndependentKeys(t *testing.T, newLimiter Factory) {
	c := clock.New(start)
	l := newLimiter(t, c)
	lim := ratelimit.Limit{Name: "keys", Burst: 2, Every: time.Hour}
	allow(t, l, lim, "a")
	allow(t, l, lim, "a")
	if r := allow(t, l, lim, "a"); r.Allowed {
		t.Fatal("a: burst of 2 allowed a third request")
	}
	if r := allow(t, l, lim, "b"); !r.Allowed || r.Remaining != 1 {
		t.Fatalf("b shares a's quota: %+v", r)
	}
}

// Two limits counting the same key (token per IP and login per IP for one
// address) must not share quota.
func testIndependentLimits(t *testing.T, newLimiter Factory) {
	c := clock.New(start)
	l := newLimiter(t, c)
	one := ratelimit.Limit{Name: "one", Burst: 1, Every: time.Hour}
	two := ratelimit.Limit{Name: "two", Burst: 1, Every: time.Hour}
	allow(t, l, one, "k")
	if r := allow(t, l, two, "k"); !r.Allowed {
		t.Fatal("limit two counted limit one's request")
	}
}

// A key whose bucket has filled again behaves as new, whatever the backend
// did with it meanwhile (Memory may drop it, Redis lets it expire).
func testIdleKeyStartsFull(t *testing.T, newLimiter Factory) {
	c := clock.New(start)
	l := newLimiter(t, c)
	lim := ratelimit.Limit{Name: "idle", Burst: 4, Every: time.Second}
	for range 6 {
		allow(t, l, lim, "k")
	}
	c.Advance(lim.Window())
	check(t, "after the window", allow(t, l, lim, "k"), want{true, 3, 0, time.Second})
}

// testConcurrent: requests racing on one key are allowed exactly Burst
// times; a backend that read and wrote the state in two steps would let
// more through.
func testConcurrent(t *testing.T, newLimiter Factory) {
	c := clock.New(start)
	l := newLimiter(t, c)
	lim := ratelimit.Limit{Name: "race", Burst: 37, Every: time.Hour}
	const goroutines, each = 20, 5
	var allowed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for range goroutines {
		wg.Go(func() {
			for range each {
				r, err := l.Allow(t.Context(), lim, "k")
				if err != nil {
					errs <- err
					return
				}
				if r.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := allowed.Load(); n != int64(lim.Burst) {
		t.Fatalf("%d of %d concurrent requests allowed, want exactly the burst %d", n, goroutines*each, lim.Burst)
	}
}

// testRealTimeRefill runs on the backend's own clock: once a request is
// refused, waiting the RetryAfter it returned is enough. Nothing sleeps on
// a guess; the wait is the limiter's own answer, a few milliseconds.
func testRealTimeRefill(t *testing.T, newLimiter Factory) {
	l := newLimiter(t, nil)
	lim := ratelimit.Limit{Name: "real", Burst: 2, Every: 20 * time.Millisecond}
	var refused ratelimit.Result
	for i := 0; ; i++ {
		// A loaded machine may take longer than Every between two calls,
		// so keep going until a refusal; a limiter that never refuses
		// fails here.
		if i == 1000 {
			t.Fatal("1000 requests in a row allowed at 2 per 40ms")
		}
		if r := allow(t, l, lim, "k"); !r.Allowed {
			refused = r
			break
		}
	}
	if refused.RetryAfter <= 0 || refused.RetryAfter > lim.Every {
		t.Fatalf("RetryAfter = %v, want in (0, %v]", refused.RetryAfter, lim.Every)
	}
	time.Sleep(refused.RetryAfter)
	if r := allow(t, l, lim, "k"); !r.Allowed {
		t.Fatalf("refused after waiting the RetryAfter of %v: %+v", refused.RetryAfter, r)
	}
}
