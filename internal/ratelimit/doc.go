// Package ratelimit owns request rate limits (SPEC RL-1): the Limiter
// interface with its in-memory (Memory) and shared Redis backends, both
// GCRA so they answer alike, and the Guard that turns a refusal into a
// 429 with Retry-After and RateLimit headers, an audit event and a metric.
package ratelimit
