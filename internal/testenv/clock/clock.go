// Package clock is a settable clock for tests: time is injected, never slept on (STYLE.md).
package clock

import (
	"sync"
	"time"
)

// Clock is a time source a test moves by hand: pass its Now wherever the
// code under test takes a func() time.Time. It is safe for concurrent use,
// so a server's goroutines may read it while the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forward or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
