// Package ratelimit will own the Limiter interface and its memory and Redis
// implementations. Empty until the Hardening issue.
package ratelimit
