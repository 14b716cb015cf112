package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

func TestKeyedLimitsEachKey(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	k := &Keyed{Rate: rate.Every(time.Minute), Burst: 3, Now: c.Now}
	for i := range 3 {
		if ok, _ := k.Allow("a"); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, retry := k.Allow("a")
	if ok || retry <= 0 || retry > time.Minute {
		t.Fatalf("fourth request: ok=%v retry=%v; want refused with retry in (0, 1m]", ok, retry)
	}
	if ok, _ := k.Allow("b"); !ok {
		t.Fatal("another key shares the first key's bucket")
	}
	c.Advance(time.Minute)
	if ok, _ := k.Allow("a"); !ok {
		t.Fatal("a token did not come back after the refill interval")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("refill gave more than one token per interval")
	}
}

// A refused request must not use up a token: otherwise a client retrying
// early would push its own recovery further away for ever.
func TestKeyedRefusalCostsNothing(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	k := &Keyed{Rate: rate.Every(time.Minute), Burst: 1, Now: c.Now}
	k.Allow("a")
	for range 10 {
		k.Allow("a")
	}
	c.Advance(time.Minute)
	if ok, _ := k.Allow("a"); !ok {
		t.Fatal("refused requests consumed future tokens")
	}
}

// Spraying keys cannot grow memory past MaxKeys, and a key that is being
// limited stays limited while the flood of fresh keys goes on.
func TestKeyedMemoryBounded(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	k := &Keyed{Rate: rate.Every(time.Hour), Burst: 1, MaxKeys: 100, Now: c.Now}
	k.Allow("victim")
	for i := range 10000 {
		k.Allow(fmt.Sprintf("spray-%d", i))
		if i%50 == 0 {
			k.Allow("victim") // keep it recently seen
		}
	}
	if n := k.Len(); n > 100 {
		t.Fatalf("%d buckets held, MaxKeys is 100", n)
	}
	if ok, _ := k.Allow("victim"); ok {
		t.Fatal("the flood reset a limited key")
	}
}

// With MaxKeys unset, the bound is DefaultMaxKeys in both places that
// read it: a full map whose idle buckets are swept has room again, so a
// key still being limited must not be dropped as well (it would start
// over with a full bucket).
func TestKeyedDefaultMaxKeysKeepsLimitedKeyAfterSweep(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	k := &Keyed{Rate: rate.Every(time.Hour), Burst: 1, Now: c.Now}
	for i := range DefaultMaxKeys - 1 {
		k.Allow(fmt.Sprintf("idle-%d", i))
	}
	c.Advance(time.Hour) // every bucket so far is full again: idle
	if ok, _ := k.Allow("victim"); !ok {
		t.Fatal("first request refused")
	}
	if ok, _ := k.Allow("victim"); ok {
		t.Fatal("burst of 1 allowed two requests")
	}
	if n := k.Len(); n != DefaultMaxKeys {
		t.Fatalf("%d buckets, want the map full at %d", n, DefaultMaxKeys)
	}
	k.Allow("newcomer") // full: sweeps the idle buckets
	if n := k.Len(); n != 2 {
		t.Fatalf("after the sweep %d buckets, want victim and newcomer", n)
	}
	if ok, _ := k.Allow("victim"); ok {
		t.Fatal("the sweep dropped a limited key although the idle ones made room")
	}
}

// Past MaxKeys with nothing idle, the least recently seen key goes (and
// only one), so the map never grows past the bound.
func TestKeyedEvictsLeastRecentlySeenWhenNoneIdle(t *testing.T) {
	c := clock.New(time.Unix(1_800_000_000, 0))
	k := &Keyed{Rate: rate.Every(time.Hour), Burst: 1, MaxKeys: 3, Now: c.Now}
	for _, key := range []string{"a", "b", "c"} {
		k.Allow(key)
	}
	k.Allow("a") // refused, but seen: b is now the oldest
	k.Allow("d")
	if n := k.Len(); n != 3 {
		t.Fatalf("%d buckets, want 3", n)
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("a was evicted; b was the least recently seen")
	}
	if ok, _ := k.Allow("c"); ok {
		t.Fatal("c was evicted; b was the least recently seen")
	}
}
