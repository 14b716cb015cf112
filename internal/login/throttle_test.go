package login

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

func newTestThrottle(c *clock.Clock, maxEntries int) *Throttle {
	return NewThrottle(ThrottleOptions{MaxFailures: 3, Window: 10 * time.Minute, Lockout: 5 * time.Minute,
		MaxEntries: maxEntries, Now: c.Now})
}

func mustAllow(t *testing.T, th *Throttle, user, ip string) {
	t.Helper()
	if ok, wait := th.Allow(user, ip); !ok || wait != 0 {
		t.Fatalf("Allow(%q, %q) = %v, %v; want allowed", user, ip, ok, wait)
	}
}

func mustRefuse(t *testing.T, th *Throttle, user, ip string, wait time.Duration) {
	t.Helper()
	if ok, got := th.Allow(user, ip); ok || got != wait {
		t.Fatalf("Allow(%q, %q) = %v, %v; want refused for %v", user, ip, ok, got, wait)
	}
}

// Guessing one account from many IPs locks the account, not the IPs.
func TestThrottleLocksUsername(t *testing.T) {
	c := newFakeClock()
	th := newTestThrottle(c, 0)
	for i := range 2 {
		if th.Failure("alice", fmt.Sprint("10.0.0.", i)) {
			t.Fatalf("locked after %d failures", i+1)
		}
		mustAllow(t, th, "alice", "10.0.0.99")
	}
	if !th.Failure("alice", "10.0.0.2") {
		t.Fatal("third failure did not lock")
	}
	mustRefuse(t, th, "alice", "10.0.0.99", 5*time.Minute)
	mustAllow(t, th, "bob", "10.0.0.2")
}

// Spraying many accounts from one IP locks the IP, not the accounts.
func TestThrottleLocksIP(t *testing.T) {
	c := newFakeClock()
	th := newTestThrottle(c, 0)
	th.Failure("u1", "10.0.0.1")
	th.Failure("u2", "10.0.0.1")
	if !th.Failure("u3", "10.0.0.1") {
		t.Fatal("third failure from the IP did not lock it")
	}
	mustRefuse(t, th, "someone-new", "10.0.0.1", 5*time.Minute)
	mustAllow(t, th, "u1", "10.0.0.2")
	mustAllow(t, th, "someone-new", "10.0.0.2")
}

func TestThrottleUnlocksAfterLockout(t *testing.T) {
	c := newFakeClock()
	th := newTestThrottle(c, 0)
	for range 3 {
		th.Failure("alice", "10.0.0.1")
	}
	c.Advance(5*time.Minute - time.Second)
	mustRefuse(t, th, "alice", "10.0.0.9", time.Second)
	mustRefuse(t, th, "bob", "10.0.0.1", time.Second)
	c.Advance(time.Second)
	mustAllow(t, th, "alice", "10.0.0.1")
	// The count started again: one more failure does not re-lock.
	if th.Failure("alice", "10.0.0.1") {
		t.Error("one failure after the lockout locked again")
	}
}

// Failures further apart than Window never add up to a lock.
func TestThrottleWindowExpires(t *testing.T) {
	c := newFakeClock()
	th := newTestThrottle(c, 0)
	for range 5 {
		for range 2 {
			if th.Failure("alice", "10.0.0.1") {
				t.Fatal("two failures locked")
			}
		}
		c.Advance(10 * time.Minute)
	}
	mustAllow(t, th, "alice", "10.0.0.1")
}

// A right password forgets the username's failures but not the IP's: a
// sprayer who guesses one password keeps its count.
func TestThrottleSuccessResetsUsernameNotIP(t *testing.T) {
	c := newFakeClock()
	th := newTestThrottle(c, 0)
	th.Failure("alice", "10.0.0.1")
	th.Failure("alice", "10.0.0.1")
	th.Success("alice", "10.0.0.1")
	th.Failure("alice", "10.0.0.2")
	if th.Failure("alice", "10.0.0.2") {
		t.Fatal("alice locked although a success reset her count")
	}
	if !th.Failure("bob", "10.0.0.1") {
		t.Fatal("the success reset the IP's count")
	}
	mustRefuse(t, th, "carol", "10.0.0.1", 5*time.Minute)
	mustAllow(t, th, "alice", "10.0.0.2")
}

func TestThrottleSuccessKeepsALock(t *testing.T) {
	c := newFakeClock()
	th := newTestThrottle(c, 0)
	for i := range 3 {
		th.Failure("alice", fmt.Sprint("10.0.0.", i))
	}
	th.Success("alice", "10.0.0.9")
	mustRefuse(t, th, "alice", "10.0.0.9", 5*time.Minute)
}

// An attacker spraying fresh usernames from fresh IPs cannot grow memory
// past MaxEntries, and cannot push a victim's lock out of the table.
func TestThrottleMemoryIsBoundedUnderSpraying(t *testing.T) {
	c := newFakeClock()
	th := newTestThrottle(c, 1000)
	for i := range 3 {
		th.Failure("victim", fmt.Sprint("192.0.2.", i))
	}
	for i := range 50_000 {
		th.Failure(fmt.Sprint("user-", i), fmt.Sprint("ip-", i))
		if i%997 == 0 {
			c.Advance(time.Millisecond)
		}
	}
	if n, m := len(th.users.m), len(th.ips.m); n > 1000 || m > 1000 {
		t.Fatalf("tables hold %d usernames and %d IPs, cap 1000", n, m)
	}
	if ok, _ := th.Allow("victim", "203.0.113.1"); ok {
		t.Fatal("spraying evicted the victim's lock")
	}
	// Once the window and the lock pass, the next failure sweeps them out.
	c.Advance(10 * time.Minute)
	th.Failure("late", "203.0.113.1")
	if n, m := len(th.users.m), len(th.ips.m); n != 1 || m != 1 {
		t.Errorf("after expiry the tables hold %d usernames and %d IPs, want 1 and 1", n, m)
	}
}

// A table full of locks counts no new key rather than unlocking one.
func TestThrottleFullOfLocks(t *testing.T) {
	c := newFakeClock()
	th := NewThrottle(ThrottleOptions{MaxFailures: 1, MaxEntries: 2, Now: c.Now})
	th.Failure("a", "")
	th.Failure("b", "")
	if th.Failure("c", "") {
		t.Error("a key beyond a full table of locks was counted")
	}
	mustRefuse(t, th, "a", "", 15*time.Minute)
	mustRefuse(t, th, "b", "", 15*time.Minute)
	mustAllow(t, th, "c", "")
}

// Long usernames are stored as fixed-size digests that still tell them
// apart, and never equal a short key.
func TestThrottleLongKeys(t *testing.T) {
	c := newFakeClock()
	th := newTestThrottle(c, 0)
	long := strings.Repeat("x", 10_000)
	for range 3 {
		th.Failure(long+"1", "")
	}
	mustRefuse(t, th, long+"1", "", 5*time.Minute)
	mustAllow(t, th, long+"2", "")
	for k := range th.users.m {
		if len(k) != 65 {
			t.Errorf("stored key of %d bytes", len(k))
		}
	}
	if k := key(strings.Repeat("a", 64)); k != strings.Repeat("a", 64) {
		t.Errorf("a 64-byte key was rewritten to %q", k)
	}
}

func TestThrottleDefaults(t *testing.T) {
	th := NewThrottle(ThrottleOptions{})
	want := ThrottleOptions{MaxFailures: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute, MaxEntries: 100_000}
	got := th.o
	got.Now = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
}

// Concurrent use is safe (run with -race) and loses no failure.
func TestThrottleConcurrent(t *testing.T) {
	c := newFakeClock()
	th := NewThrottle(ThrottleOptions{MaxFailures: 400, Now: c.Now})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				th.Failure("alice", fmt.Sprint("ip-", g, "-", i))
				th.Allow("alice", "x")
				th.Success("bob", "y")
			}
		})
	}
	wg.Wait()
	mustRefuse(t, th, "alice", "z", 15*time.Minute)
}
