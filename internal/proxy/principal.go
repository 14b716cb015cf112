package proxy

import (
	"context"
	"errors"
	"time"

	"github.com/mcpgate/mcpgate/internal/policy"
)

// Principal is the verified caller of one request.
type Principal struct {
	policy.Principal        // Scopes already expanded by the scope hierarchy
	ClientID         string // OAuth client the token was issued to
	Family           string // grant family (sid); empty for external tokens
	TokenID          string // jti, for audit
	Expiry           time.Time
}

// Authenticator turns a bearer token into the caller for one route.
// Failures are ErrInvalidToken (401 invalid_token) or ErrUnavailable (503:
// the verifier cannot decide, for example before the revocation list has
// loaded; failing open there would accept revoked tokens).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

// Errors an Authenticator returns, possibly wrapped with a reason for the
// log. The client never sees the reason.
var (
	ErrInvalidToken = errors.New("invalid token")
	ErrUnavailable  = errors.New("token verification unavailable")
)

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, token string) (Principal, error)

func (f AuthenticatorFunc) Authenticate(ctx context.Context, token string) (Principal, error) {
	return f(ctx, token)
}
