package server

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/tokens"
)

// VerifyAccessToken checks an access token for audience exactly as this
// instance's protected resources will: signature and header, RFC 9068
// claims, and the revocation cache this instance polls from the store
// (SPEC AS-5, AS-5a). Tests use it to watch a revocation reach an
// instance; the proxy will call the same verifier.
func (s *Server) VerifyAccessToken(ctx context.Context, token, audience string) (tokens.Claims, error) {
	return s.auth.verifier.Verify(ctx, token, audience)
}
