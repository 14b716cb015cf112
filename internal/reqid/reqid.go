// Package reqid owns the per-request ID that ties a response (every error
// body carries it, SPEC AS-10) to its log line and audit events.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Header carries the request ID on every response.
const Header = "X-Request-Id"

type ctxKey struct{}

// New returns a fresh random ID.
func New() string {
	var b [12]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the ID With stored, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}
