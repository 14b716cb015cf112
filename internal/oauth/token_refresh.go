package oauth

import (
	"errors"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// refreshGrant redeems a refresh token (RFC 6749 §6, OAuth 2.1 §4.3): it
// re-checks the user with the provider at least every 15 minutes (SPEC
// AS-6) and checks the requested resource and scope against the family,
// both before anything changes, then rotates.
func (p *Provider) refreshGrant(r *http.Request, c Client) (grant, *Error) {
	handle := r.PostForm.Get("refresh_token")
	if handle == "" || len(handle) > maxParamLen {
		return grant{}, errInvalidRequest("The refresh_token parameter is missing.")
	}
	// Everything that can refuse the refresh runs before anything
	// changes: the user re-check with the provider (SPEC AS-6), then the
	// requested resource and scope against the (possibly narrowed) family.
	// A refused refresh consumes nothing, so a buggy client or a provider
	// outage does not cost the client its grant (SPEC AS-4).
	var checked storage.RefreshFamily
	var scopes []string
	res, err := p.Refresher.RotateIf(r.Context(), handle, c.ID, func(fam storage.RefreshFamily) error {
		var e *Error
		if checked, e = p.recheckUser(r, fam); e != nil {
			return e
		}
		if scopes, e = p.refreshScopes(r, checked); e != nil {
			return e
		}
		return nil
	})
	var oe *Error
	switch {
	case errors.As(err, &oe):
		return grant{}, oe
	case errors.Is(err, tokens.ErrReuse):
		p.refreshReused(r, c, res.Family)
		return grant{}, errInvalidGrant("The refresh token is invalid.")
	case errors.Is(err, tokens.ErrInvalidGrant):
		return grant{}, errInvalidGrant("The refresh token is invalid.")
	case err != nil:
		return grant{}, p.fail(r, "rotate refresh token", err)
	}
	fam := checked
	return grant{Event: audit.TokenRefreshed, RefreshHandle: res.Handle, Grant: tokens.Grant{
		Subject: fam.Subject, ClientID: fam.ClientID, Resource: fam.Resource, FamilyID: fam.ID,
		ProviderID: fam.ProviderID, Scopes: scopes, Groups: fam.Groups, AuthTime: fam.AuthTime,
		Email: fam.Email, EmailVerified: fam.EmailVerified,
	}}, nil
}

// refreshScopes checks the request's resource and scope against the
// family and returns the scopes the access token gets: the family's, or a
// narrower set the client asked for (RFC 6749 §6: never wider).
func (p *Provider) refreshScopes(r *http.Request, fam storage.RefreshFamily) ([]string, *Error) {
	if e := p.checkResource(r, fam.Resource); e != nil {
		return nil, e
	}
	raw := r.PostForm.Get("scope")
	if raw == "" {
		return fam.Scopes, nil
	}
	if len(raw) > maxScopeLen { // before parsing: its de-duplication is quadratic
		return nil, errInvalidScope("The requested scope exceeds the grant.")
	}
	requested, ok := parseScope(raw)
	if !ok || !p.scopes.Covers(fam.Scopes, requested) {
		return nil, errInvalidScope("The requested scope exceeds the grant.")
	}
	return requested, nil
}

// refreshReused reports a refresh token used again outside the grace
// window: the token was stolen or the client is broken, and either way the
// family is now revoked, access tokens included (SPEC AS-6). Refresher
// revoked it; this records the high-risk event.
func (p *Provider) refreshReused(r *http.Request, c Client, fam storage.RefreshFamily) {
	p.Metrics.RefreshReuse()
	p.Metrics.TokenRevoked("refresh_reuse")
	p.record(r, audit.Event{Type: audit.RefreshTokenReuseDetected, User: fam.Subject, Session: fam.ID, Client: c.ID,
		Provider: fam.ProviderID, Risk: 90, Details: map[string]any{"family": fam.ID, "resource": fam.Resource}})
}

// recheckUser asks the provider about the user when the last check is more
// than userCheckEvery old (SPEC AS-6): a disabled or deleted user loses the
// grant, changed groups narrow it, and the email becomes the provider's
// current verified one (none if it no longer vouches for one), so a token
// never keeps asserting an address the user no longer holds.
func (p *Provider) recheckUser(r *http.Request, fam storage.RefreshFamily) (storage.RefreshFamily, *Error) {
	now := p.Now()
	if now.Sub(fam.UserCheckedAt) < userCheckEvery {
		return fam, nil
	}
	conn, known := p.connectors[fam.ProviderID]
	_, canRefresh := conn.(login.RefreshConnector)
	if !known {
		return fam, p.revokeForUser(r, fam, "provider_removed")
	}
	if !canRefresh {
		return fam, nil
	}
	seen := login.Identity{Groups: fam.Groups, Email: fam.Email, EmailVerified: fam.EmailVerified}
	id, err := p.Users.Recheck(r.Context(), fam.Subject, fam.ProviderID, seen)
	if errors.Is(err, login.ErrUserGone) {
		return fam, p.revokeForUser(r, fam, "user_gone")
	}
	if err != nil {
		// The provider cannot answer. A short outage should not log
		// everyone out, so the grant keeps working for a while; past that
		// the refresh is refused (503, nothing consumed) until the
		// provider answers again: an attacker who can keep the IdP from
		// answering must not keep a disabled user's grant alive, and a
		// grant idle through an outage is not destroyed by it.
		if now.Sub(fam.UserCheckedAt) >= userCheckFailOpen {
			p.Log.Warn("user re-check failing: refusing the refresh", "provider", fam.ProviderID, "family", fam.ID, "err", err)
			return fam, errTemporarilyUnavailable("The identity provider cannot confirm the user; try again later.")
		}
		p.Log.Warn("user re-check failed", "provider", fam.ProviderID, "err", err)
		return fam, nil
	}
	principal := Principal{Subject: fam.Subject, Provider: fam.ProviderID, Groups: id.Groups}
	email, verified := verifiedEmail(id.Email, id.EmailVerified)
	held := len(fam.Scopes)
	err = p.Store.UpdateRefreshFamily(r.Context(), fam.ID, func(f storage.RefreshFamily) (storage.RefreshFamily, error) {
		f.Groups, f.UserCheckedAt = id.Groups, now
		f.Email, f.EmailVerified = email, verified
		f.Scopes = p.scopes.Grantable(f.Scopes, principal)
		fam = f
		return f, nil
	})
	if err != nil {
		return fam, p.fail(r, "update family after re-check", err)
	}
	if held > 0 && len(fam.Scopes) == 0 {
		// The user may no longer receive anything the grant held: the
		// grant is over, as finish refuses a code with no grantable scope
		// (SPEC AS-9), rather than living on to mint scopeless tokens.
		return fam, p.revokeForUser(r, fam, "scopes_withdrawn")
	}
	return fam, nil
}

func (p *Provider) revokeForUser(r *http.Request, fam storage.RefreshFamily, reason string) *Error {
	if err := p.Refresher.RevokeFamily(r.Context(), fam.ID, reason); err != nil {
		return p.fail(r, "revoke family", err)
	}
	p.Metrics.TokenRevoked(reason)
	p.record(r, audit.Event{Type: audit.TokenRevoked, User: fam.Subject, Session: fam.ID, Client: fam.ClientID,
		Provider: fam.ProviderID, Details: map[string]any{"reason": reason}})
	return errInvalidGrant("The refresh token is invalid.")
}
