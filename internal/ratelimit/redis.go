package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key the Redis limiter writes when Prefix is
// unset.
const DefaultPrefix = "mcpgate:rl:"

// gcraScript is decide (limiter.go) in one atomic step, in microseconds.
//
// The time is Redis's own (TIME), never the caller's: instances whose
// clocks disagree would otherwise each see the other's requests as far in
// the past or future and together allow more than the limit. ARGV[3] is a
// fixed time for tests only (Redis.now); production passes 0.
//
// The key expires when its bucket would be full again (PEXPIRE via SET
// PX), so an idle key costs Redis nothing and no sweep is needed. Numbers
// stay below 2^53 (microseconds since 1970 are about 1.8e15), so Lua's
// doubles hold them exactly; the tat is stored with %.0f, which writes
// such an integer in full (tostring would round it to 14 digits).
//
// Reply: {allowed (0/1), remaining, retry_after_us, reset_after_us}.
var gcraScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local now = tonumber(ARGV[3])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local every = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local nexttat = tat + every
local allow_at = nexttat - every * burst
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', nexttat), 'PX', math.ceil((nexttat - now) / 1000))
return {1, math.floor((now - allow_at) / every), 0, nexttat - now}
`)

// Redis is the shared Limiter: every instance pointed at one Redis counts
// against one GCRA state per key, updated atomically by one Lua script,
// so a limit holds across instances (SPEC RL-1).
type Redis struct {
	// Client is the connection (a *redis.Client, or a cluster client:
	// each call touches one key).
	Client redis.Scripter
	// Prefix starts every key, "<Prefix><limit>:<key>". Default
	// DefaultPrefix.
	Prefix string

	// now, when set, replaces Redis's TIME (tests drive a clock with it;
	// see export_test.go).
	now func() time.Time
}

var _ Limiter = (*Redis)(nil)

// Allow implements Limiter. The error is Redis's (unreachable, timeout);
// see Failover for what the gateway does then.
func (r *Redis) Allow(ctx context.Context, l Limit, key string) (Result, error) {
	prefix := r.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	var now int64
	if r.now != nil {
		now = r.now().UnixMicro()
	}
	every := l.interval().Microseconds()
	v, err := gcraScript.Run(ctx, r.Client, []string{prefix + l.Name + ":" + key}, every, max(l.Burst, 1), now).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(v) != 4 {
		return Result{}, fmt.Errorf("ratelimit: redis: script returned %d values, want 4", len(v))
	}
	return Result{
		Limit: l, Allowed: v[0] == 1, Remaining: int(v[1]),
		RetryAfter: time.Duration(v[2]) * time.Microsecond, ResetAfter: time.Duration(v[3]) * time.Microsecond,
	}, nil
}
