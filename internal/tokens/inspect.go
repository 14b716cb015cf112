package tokens

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// Inspect returns the claims of an access token this issuer signed,
// checking the signature, header and issuer but not the audience, times or
// revocation. It serves RFC 7009 revocation, which must act on a token
// whatever resource it is for and even if it is already revoked; never use
// it to authorise a request.
func (v *Verifier) Inspect(token string) (Claims, error) {
	c, err := v.signedClaims(token)
	if err != nil {
		return Claims{}, err
	}
	if c.Issuer != v.Issuer || c.JTI == "" {
		return Claims{}, invalid("wrong issuer or no jti")
	}
	return c, nil
}

// Lookup finds a refresh handle's token and family, checking its secret
// (in constant time) and that it was issued to clientID, and changes
// nothing. Revocation and introspection use it to act only on a caller's
// own tokens; the token endpoint checks a refresh inside RotateIf
// instead. Every failure is ErrInvalidGrant or a store error.
func (r *Refresher) Lookup(ctx context.Context, handle, clientID string) (storage.RefreshToken, storage.RefreshFamily, error) {
	return r.lookup(ctx, handle, clientID)
}
