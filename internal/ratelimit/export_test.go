package ratelimit

import "time"

// WithClock makes r use now instead of Redis's TIME, so the conformance
// suite can drive both backends with one clock.
func WithClock(r *Redis, now func() time.Time) *Redis {
	r.now = now
	return r
}
