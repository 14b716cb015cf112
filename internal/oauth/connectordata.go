package oauth

import (
	"context"
	"errors"
	"strings"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// A connector's per-user state (login.Identity.ConnectorData: the local
// connector's password stamp, an OIDC connector's upstream refresh token)
// is kept sealed in the upstream-token record of (user, provider), so that
// re-checks can hand it back to the connector's Refresh (SPEC AS-6, ID-5):
// without it the local connector can only check that a user still exists,
// not that their password was not reset.
//
// It is per user, not per grant: a newer login replaces it. An operator
// resetting a compromised password should also run the kill switch, which
// ends every grant at once (docs/operations.md).

// connectorAAD binds a sealed value to its record, so it cannot be copied
// onto another user's.
func connectorAAD(subject, provider string) []byte {
	return []byte(subject + "\x00" + provider)
}

// keepConnectorData stores id's ConnectorData for the user, sealed.
func (p *Provider) keepConnectorData(ctx context.Context, subject, provider string, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	sealed, err := p.Seal.Seal(seal.PurposeUpstreamToken, data, connectorAAD(subject, provider))
	if err != nil {
		return err
	}
	return p.Store.PutUpstreamToken(ctx, storage.UpstreamToken{
		Subject: subject, ProviderID: provider, Sealed: sealed, UpdatedAt: p.Now(),
	})
}

// recheckIdentity is the identity a re-check hands to the connector: the
// provider's own subject, the groups and email last seen (seen's), and
// the stored connector data when there is any. A connector that cannot
// look the groups or email up again returns them as given, so a re-check
// never drops what it could not re-read.
func (p *Provider) recheckIdentity(ctx context.Context, subject, provider string, seen login.Identity) login.Identity {
	id := login.Identity{Subject: strings.TrimPrefix(subject, provider+":"), Groups: seen.Groups,
		Email: seen.Email, EmailVerified: seen.EmailVerified}
	t, err := p.Store.GetUpstreamToken(ctx, subject, provider)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			p.Log.Warn("load connector data", "provider", provider, "err", err)
		}
		return id
	}
	data, err := p.Seal.Open(seal.PurposeUpstreamToken, t.Sealed, connectorAAD(subject, provider))
	if err != nil {
		p.Log.Warn("open connector data", "provider", provider, "err", err)
		return id
	}
	id.ConnectorData = data
	return id
}
