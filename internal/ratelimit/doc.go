// Package ratelimit owns request rate limits: today an in-memory token
// bucket per key (dynamic client registration and the authorization
// endpoint, per client IP); the Hardening issue adds the Limiter
// interface, RateLimit headers and the Redis backend.
package ratelimit
