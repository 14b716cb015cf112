package metrics

import "github.com/prometheus/client_golang/prometheus"

// RateLimits holds the rate limiter's counters (SPEC OP-1, RL-1). The
// limit label is a limit name fixed in code ("token_ip"), never request
// data, so the series stay bounded.
type RateLimits struct {
	limited       *prometheus.CounterVec
	backendErrors prometheus.Counter
}

// RateLimits registers and returns the rate-limit counters, and a gauge
// of the keys the in-memory limiter holds (keys reports it), which shows
// that memory stays bounded under a flood of addresses.
func (r *Registry) RateLimits(keys func() int) *RateLimits {
	m := &RateLimits{
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limited_total",
			Help: "Requests refused with 429, by rate limit.",
		}, []string{"limit"}),
		backendErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limit_backend_errors_total",
			Help: "Failed calls to the shared (Redis) rate limiter; each was answered by this instance's in-memory limiter instead.",
		}),
	}
	held := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "rate_limit_keys",
		Help: "Keys the in-memory rate limiter holds (bounded by rate_limits.max_keys).",
	}, func() float64 { return float64(keys()) })
	r.reg.MustRegister(m.limited, m.backendErrors, held)
	return m
}

// RateLimited counts one refusal by limit.
func (m *RateLimits) RateLimited(limit string) { m.limited.WithLabelValues(limit).Inc() }

// BackendError counts one failed call to the shared limiter.
func (m *RateLimits) BackendError() { m.backendErrors.Inc() }
