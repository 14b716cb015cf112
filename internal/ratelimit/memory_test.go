package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/ratelimit/ratelimittest"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

func TestMemoryConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T, c *clock.Clock) ratelimit.Limiter {
		m := &ratelimit.Memory{}
		if c != nil {
			m.Now = c.Now
		}
		return m
	})
}

func allow(t *testing.T, l ratelimit.Limiter, lim ratelimit.Limit, key string) bool {
	t.Helper()
	r, err := l.Allow(t.Context(), lim, key)
	if err != nil {
		t.Fatal(err)
	}
	return r.Allowed
}

// Spraying keys cannot grow memory past MaxKeys, and a key that is being
// limited stays limited while the flood of fresh keys goes on, as long as
// it keeps sending.
func TestMemoryBoundedUnderFlood(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	m := &ratelimit.Memory{MaxKeys: 100, Now: c.Now}
	lim := ratelimit.Limit{Name: "flood", Burst: 1, Every: time.Hour}
	allow(t, m, lim, "victim")
	for i := range 10_000 {
		allow(t, m, lim, fmt.Sprintf("spray-%d", i))
		if i%50 == 0 && allow(t, m, lim, "victim") {
			t.Fatalf("after %d sprayed keys the limited key was allowed again", i)
		}
		if n := m.Len(); n > 100 {
			t.Fatalf("%d keys held, MaxKeys is 100", n)
		}
	}
}

// Idle keys (bucket full again) go first: a full map of idle keys makes
// room without touching a key that is still limited, and traffic trims
// idle keys away even when the map is not full.
func TestMemoryDropsIdleKeysFirst(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	m := &ratelimit.Memory{MaxKeys: 1000, Now: c.Now}
	lim := ratelimit.Limit{Name: "idle", Burst: 1, Every: time.Minute}
	for i := range 999 {
		allow(t, m, lim, fmt.Sprintf("idle-%d", i))
	}
	c.Advance(time.Minute) // every key so far is idle
	allow(t, m, lim, "victim")
	for i := range 100 {
		allow(t, m, lim, fmt.Sprintf("new-%d", i))
		if allow(t, m, lim, "victim") {
			t.Fatal("a limited key was dropped while idle ones were left")
		}
	}
	if n := m.Len(); n > 1000 {
		t.Fatalf("%d keys held, MaxKeys is 1000", n)
	}
	// Each call trims up to two idle keys: a few hundred more calls on
	// one key leave only the active ones.
	c.Advance(time.Minute)
	for range 600 {
		allow(t, m, lim, "steady")
		c.Advance(time.Minute)
	}
	if n := m.Len(); n > 2 {
		t.Fatalf("%d keys held after the others went idle, want the active one (and at most one more)", n)
	}
}

// With nothing idle, the least recently used key goes, and only one.
func TestMemoryEvictsLeastRecentlyUsed(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	m := &ratelimit.Memory{MaxKeys: 3, Now: c.Now}
	lim := ratelimit.Limit{Name: "lru", Burst: 1, Every: time.Hour}
	for _, k := range []string{"a", "b", "c"} {
		allow(t, m, lim, k)
	}
	allow(t, m, lim, "a") // refused, but used: b is now the oldest
	allow(t, m, lim, "d")
	if n := m.Len(); n != 3 {
		t.Fatalf("%d keys, want 3", n)
	}
	if allow(t, m, lim, "a") || allow(t, m, lim, "c") {
		t.Fatal("a or c was evicted; b was the least recently used")
	}
	if !allow(t, m, lim, "b") {
		t.Fatal("b was not evicted")
	}
}
