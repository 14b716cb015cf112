package server

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/mcpgate/mcpgate/internal/ratelimit"
)

// buildLimits builds the rate limits (SPEC RL-1): counted in this
// process, or in Redis when redis.url is set so they hold across
// instances, with this process's memory taking over while Redis fails
// (ratelimit.Failover says why neither failing open nor closed).
func (s *Server) buildLimits() (*ratelimit.Guard, error) {
	cfg := s.cfg
	log := s.log.With("component", "ratelimit")
	mem := &ratelimit.Memory{MaxKeys: cfg.RateLimits.MaxKeys, Now: s.opts.Now}
	m := s.metrics.RateLimits(mem.Len)
	g := &ratelimit.Guard{
		Limits: ratelimit.FromConfig(cfg.RateLimits), Limiter: mem,
		Audit: s.record, Metrics: m, Log: log, Now: s.opts.Now,
	}
	if !cfg.Redis.Enabled() {
		return g, nil
	}
	opt, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		// The parser's message may quote the URL, password and all.
		return nil, errors.New("redis.url: cannot be parsed as a Redis URL")
	}
	s.redis = redis.NewClient(opt)
	g.Limiter = &ratelimit.Failover{
		Primary:  &ratelimit.Redis{Client: s.redis, Prefix: cfg.Redis.KeyPrefix + "rl:"},
		Fallback: mem,
		OnError: func(err error) {
			m.BackendError()
			log.Error("redis rate limiter failed; limiting per instance until it answers", "err", err)
		},
	}
	return g, nil
}

// redisStatus is the readiness check of Redis: "ok", or "degraded" when
// it does not answer. Degraded does not make the instance unready: rate
// limits go on per instance (ratelimit.Failover), and taking every
// instance out of rotation because Redis is down would turn a Redis
// outage into a gateway outage.
func (s *Server) redisStatus(ctx context.Context) string {
	if err := s.redis.Ping(ctx).Err(); err != nil {
		s.log.Warn("readiness: redis unavailable", "err", err)
		return "degraded"
	}
	return "ok"
}
