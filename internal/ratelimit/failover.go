package ratelimit

import (
	"context"
	"sync/atomic"
	"time"
)

// Failover defaults.
const (
	// DefaultTimeout bounds one call to the primary. A limiter check sits
	// in front of every limited request; a Redis that hangs must cost each
	// request milliseconds, not go-redis's seconds.
	DefaultTimeout = 200 * time.Millisecond
	// DefaultRetryAfter is how long the primary is skipped after it failed,
	// so an outage costs one timeout per period rather than one per request.
	DefaultRetryAfter = time.Second
)

// Failover asks Primary (Redis) and, while Primary fails, Fallback (a
// Memory): the gateway neither fails open nor closed when Redis is down,
// it degrades to per-instance limits.
//
// Why not fail closed: every limited endpoint (token, login, MCP traffic)
// would answer 429 or 503 for as long as Redis is unreachable, so anyone
// able to disturb Redis (or a routine Redis restart) would take the whole
// gateway down. Why not fail open: the limits exist against password and
// code guessing, registration floods and token-endpoint DoS, and an
// attacker who notices they vanish with Redis gets exactly the window he
// wants. Per-instance limits keep every defence, each instance still
// refusing past its own limit, at worst N times looser with N instances.
// Each failure is reported through OnError (the server logs it and counts
// mcpgate_rate_limit_backend_errors_total), so the degradation is seen.
type Failover struct {
	Primary, Fallback Limiter
	// Timeout bounds a Primary call; default DefaultTimeout.
	Timeout time.Duration
	// RetryAfter is how long Primary is skipped after a failure; default
	// DefaultRetryAfter.
	RetryAfter time.Duration
	// OnError is told of each Primary failure; may be nil.
	OnError func(error)
	// Now is the clock of the skip period; default time.Now.
	Now func() time.Time

	downUntil atomic.Int64 // Unix nanoseconds
}

var _ Limiter = (*Failover)(nil)

// Allow implements Limiter; it fails only if Fallback does.
func (f *Failover) Allow(ctx context.Context, l Limit, key string) (Result, error) {
	now := f.now()
	if now.UnixNano() >= f.downUntil.Load() {
		pctx, cancel := context.WithTimeout(ctx, orDefault(f.Timeout, DefaultTimeout))
		res, err := f.Primary.Allow(pctx, l, key)
		cancel()
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			// The request itself is gone; Redis is not to blame.
			return Result{}, ctx.Err()
		}
		f.downUntil.Store(now.Add(orDefault(f.RetryAfter, DefaultRetryAfter)).UnixNano())
		if f.OnError != nil {
			f.OnError(err)
		}
	}
	return f.Fallback.Allow(ctx, l, key)
}

func (f *Failover) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
