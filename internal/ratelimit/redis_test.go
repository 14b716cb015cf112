package ratelimit_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/ratelimit/ratelimittest"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
	"github.com/mcpgate/mcpgate/internal/testenv/redistest"
)

// TestRedisConformance runs the suite on the real Redis MCPGATE_TEST_REDIS
// names: with the suite's clock passed to the script, and on Redis's own
// TIME for the real-time test.
func TestRedisConformance(t *testing.T) {
	redistest.URL(t)
	ratelimittest.Run(t, func(t *testing.T, c *clock.Clock) ratelimit.Limiter {
		r := &ratelimit.Redis{Client: redistest.Client(t), Prefix: redistest.Prefix(t)}
		if c != nil {
			ratelimit.WithClock(r, c.Now)
		}
		return r
	})
}

// Two instances, each with its own connection, share one limit: what one
// allowed, the other counts (SPEC RL-1). They run on Redis's TIME, as in
// production.
func TestRedisInstancesShareLimit(t *testing.T) {
	prefix := redistest.Prefix(t)
	a := &ratelimit.Redis{Client: redistest.Client(t), Prefix: prefix}
	b := &ratelimit.Redis{Client: redistest.Client(t), Prefix: prefix}
	lim := ratelimit.Limit{Name: "shared", Burst: 10, Every: time.Hour}
	allowed := 0
	for i := range 20 {
		inst := a
		if i%2 == 1 {
			inst = b
		}
		if allow(t, inst, lim, "client-1") {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("the two instances allowed %d requests together, want the burst of 10", allowed)
	}
	for name, inst := range map[string]*ratelimit.Redis{"a": a, "b": b} {
		r, err := inst.Allow(t.Context(), lim, "client-1")
		if err != nil || r.Allowed || r.RetryAfter <= 59*time.Minute {
			t.Fatalf("instance %s: %+v %v; want refused for about an hour", name, r, err)
		}
	}
}

// Idle keys vanish from Redis by themselves: each key expires when its
// bucket is full again.
func TestRedisKeysExpire(t *testing.T) {
	prefix := redistest.Prefix(t)
	c := redistest.Client(t)
	r := &ratelimit.Redis{Client: c, Prefix: prefix}
	lim := ratelimit.Limit{Name: "ttl", Burst: 5, Every: time.Minute}
	allow(t, r, lim, "k")
	allow(t, r, lim, "k")
	ttl, err := c.PTTL(t.Context(), prefix+"ttl:k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= time.Minute || ttl > 2*time.Minute {
		t.Fatalf("PTTL = %v, want the time until the bucket is full again (2m, less a moment)", ttl)
	}
}

// errLimiter fails every call, like an unreachable Redis.
type errLimiter struct{ calls atomic.Int64 }

func (e *errLimiter) Allow(context.Context, ratelimit.Limit, string) (ratelimit.Result, error) {
	e.calls.Add(1)
	return ratelimit.Result{}, errors.New("connection refused")
}

// While the primary fails, Failover still limits, per instance, and tries
// the primary again only after RetryAfter, so an outage costs one failed
// call per period instead of one per request.
func TestFailoverLimitsPerInstanceWhilePrimaryFails(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	primary := &errLimiter{}
	var reported atomic.Int64
	f := &ratelimit.Failover{
		Primary: primary, Fallback: &ratelimit.Memory{Now: c.Now},
		RetryAfter: time.Second, Now: c.Now,
		OnError: func(error) { reported.Add(1) },
	}
	lim := ratelimit.Limit{Name: "down", Burst: 3, Every: time.Hour}
	for i := range 3 {
		if !allow(t, f, lim, "k") {
			t.Fatalf("request %d within the burst refused while Redis is down", i+1)
		}
	}
	if allow(t, f, lim, "k") {
		t.Fatal("fail open: the limit vanished with Redis")
	}
	if n := primary.calls.Load(); n != 1 {
		t.Fatalf("primary called %d times within RetryAfter, want 1", n)
	}
	if n := reported.Load(); n != 1 {
		t.Fatalf("%d failures reported, want 1", n)
	}
	c.Advance(time.Second)
	allow(t, f, lim, "k")
	if n := primary.calls.Load(); n != 2 {
		t.Fatalf("primary not retried after RetryAfter: %d calls", n)
	}
}

// The real thing: a Redis that refuses connections.
func TestFailoverWithUnreachableRedis(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	var reported atomic.Int64
	f := &ratelimit.Failover{
		Primary: &ratelimit.Redis{Client: dead}, Fallback: &ratelimit.Memory{},
		OnError: func(error) { reported.Add(1) },
	}
	lim := ratelimit.Limit{Name: "dead", Burst: 2, Every: time.Hour}
	start := time.Now()
	got := []bool{allow(t, f, lim, "k"), allow(t, f, lim, "k"), allow(t, f, lim, "k")}
	if got[0] != true || got[1] != true || got[2] != false {
		t.Fatalf("allowed %v, want [true true false] from the in-memory fallback", got)
	}
	if reported.Load() < 1 {
		t.Fatal("the Redis failure was not reported")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("three checks took %v with Redis down", d)
	}
}
