package ratelimit

import (
	"context"
	"time"
)

// Limit is one rate limit: Burst requests at once, and one more every
// Every after that. Each Limit is counted separately, even for equal keys.
type Limit struct {
	// Name identifies the limit in keys, metrics, audit events and the
	// RateLimit headers' policy name ("token_ip"). A fixed name from the
	// code or the configuration, never request data.
	Name string
	// Burst is the bucket size: how many requests a key may make at once
	// (the policy's quota, RateLimit-Policy q).
	Burst int
	// Every is the emission interval: one request's worth of quota comes
	// back every Every. Both backends count in whole microseconds (Redis
	// TIME's resolution); anything finer is rounded down, to at least 1µs.
	Every time.Duration
}

// interval is Every as both backends use it.
func (l Limit) interval() time.Duration {
	return max(l.Every.Truncate(time.Microsecond), time.Microsecond)
}

// Window is how long an empty bucket takes to fill again: Burst × Every,
// the RateLimit-Policy window (w) over which Burst requests are allowed.
func (l Limit) Window() time.Duration { return time.Duration(l.Burst) * l.interval() }

// Result is a Limiter's answer for one request.
type Result struct {
	// Limit is the limit the answer is about.
	Limit Limit
	// Allowed reports whether the request may proceed; it used up one
	// unit of quota only if so (a refusal costs nothing, or a client
	// retrying early would push its own recovery further away).
	Allowed bool
	// Remaining is how many more requests the key may make right now.
	Remaining int
	// RetryAfter, when refused, is how long until one request will be
	// allowed; zero when allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the bucket is full again, with the
	// key's whole quota (Burst) available: the RateLimit header's t.
	ResetAfter time.Duration
}

// Limiter decides whether a request counted under key may proceed.
// Implementations are safe for concurrent use, and both answer every
// sequence of calls with the same Results (the conformance suite in
// ratelimittest holds them to it).
type Limiter interface {
	Allow(ctx context.Context, l Limit, key string) (Result, error)
}

// decide is GCRA, the generic cell rate algorithm (ITU-T I.371, virtual
// scheduling form), on times in nanoseconds. The state per key is one
// number, the theoretical arrival time (tat): when the bucket would be
// full again. A request is allowed if, after adding one interval to tat,
// tat is no more than Burst intervals ahead of now. The Redis script
// (redis.go) is the same computation in microseconds; keep them in step.
func decide(l Limit, now, tat int64) (r Result, newTAT int64) {
	every := int64(l.interval())
	burst := int64(max(l.Burst, 1))
	tat = max(tat, now)
	next := tat + every
	allowAt := next - every*burst
	r.Limit = l
	if now < allowAt {
		r.RetryAfter = time.Duration(allowAt - now)
		r.ResetAfter = time.Duration(tat - now)
		return r, tat
	}
	r.Allowed = true
	r.Remaining = int((now - allowAt) / every)
	r.ResetAfter = time.Duration(next - now)
	return r, next
}
