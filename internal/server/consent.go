package server

import "context"

// RevokeConsent withdraws subject's approvals of clientID and revokes the
// grants they allowed, access tokens included (SPEC AS-3, AS-5a). The admin
// console will call it.
func (s *Server) RevokeConsent(ctx context.Context, subject, clientID string) (consents, grants int, err error) {
	return s.auth.provider.RevokeConsent(ctx, subject, clientID)
}
