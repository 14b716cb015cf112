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
