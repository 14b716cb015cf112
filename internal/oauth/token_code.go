package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// codeGrant redeems an authorization code (RFC 6749 §4.1.3, OAuth 2.1
// §4.1.3, RFC 7636 §4.6).
func (p *Provider) codeGrant(r *http.Request, c Client) (grant, *Error) {
	f := r.PostForm
	code := f.Get("code")
	if code == "" || len(code) > maxParamLen {
		return grant{}, errInvalidRequest("The code parameter is missing.")
	}
	hash := sha256.Sum256([]byte(code))
	ac, err := p.Store.ConsumeAuthCode(r.Context(), hash[:], p.Now())
	switch {
	case errors.Is(err, storage.ErrConsumed):
		p.codeReplayed(r, c, ac)
		return grant{}, errInvalidGrant("The authorization code is invalid.")
	case errors.Is(err, storage.ErrNotFound):
		return grant{}, errInvalidGrant("The authorization code is invalid.")
	case err != nil:
		return grant{}, p.fail(r, "consume code", err)
	}
	// Every check below runs after the code is consumed: a failed attempt
	// burns it, so a code stolen by a party that cannot pass them is dead
	// for the legitimate client too (it restarts), and cannot be retried.
	if ac.ExpiresAt.Before(p.Now()) || ac.ClientID != c.ID {
		return grant{}, errInvalidGrant("The authorization code is invalid.")
	}
	if !redirectMatchesCode(f.Get("redirect_uri"), ac, c) {
		return grant{}, errInvalidGrant("The redirect_uri does not match the authorization request.")
	}
	if !verifyPKCE(f.Get("code_verifier"), ac.CodeChallenge) {
		return grant{}, errInvalidGrant("The code_verifier does not match the code_challenge.")
	}
	if e := p.checkResource(r, ac.Resource); e != nil {
		return grant{}, e
	}
	// The kill switch may have run, or a replay of this very code on
	// another instance may have revoked its grant, between the code's
	// issue and now (SPEC AS-5a).
	if rc := p.Verifier.Revoked; rc.AuthRevoked(ac.Subject, ac.AuthTime) || rc.FamilyRevoked(ac.FamilyID) {
		return grant{}, errInvalidGrant("The authorization code is invalid.")
	}
	g := grant{Event: audit.TokenIssued, Grant: tokens.Grant{
		Subject: ac.Subject, ClientID: c.ID, Resource: ac.Resource, FamilyID: ac.FamilyID,
		ProviderID: ac.ProviderID, Scopes: ac.Scopes, Groups: ac.Groups, AuthTime: ac.AuthTime,
		Email: ac.Email, EmailVerified: ac.EmailVerified,
	}}
	if c.AllowsGrant("refresh_token") {
		handle, err := p.startFamily(r, ac)
		if err != nil {
			return grant{}, p.fail(r, "start refresh family", err)
		}
		g.RefreshHandle = handle
	}
	return g, nil
}

// startFamily creates the refresh family the code's sid names, with its
// first refresh token (SPEC AS-6).
func (p *Provider) startFamily(r *http.Request, ac storage.AuthCode) (string, error) {
	now := p.Now()
	_, handle, err := p.Refresher.Start(r.Context(), storage.RefreshFamily{
		ID: ac.FamilyID, ClientID: ac.ClientID, Subject: ac.Subject, ProviderID: ac.ProviderID,
		Resource: ac.Resource, Scopes: ac.Scopes, Groups: ac.Groups, AuthTime: ac.AuthTime,
		Email: ac.Email, EmailVerified: ac.EmailVerified,
		CreatedAt: now, LastUsedAt: now, UserCheckedAt: now,
	})
	return handle, err
}

// codeReplayed handles a code used twice: whoever holds it now, the first
// exchange may have gone to an attacker, so everything it issued is revoked,
// access tokens included (RFC 6749 §4.1.2, RFC 9700 §4.5, SPEC AS-4).
func (p *Provider) codeReplayed(r *http.Request, c Client, ac storage.AuthCode) {
	if err := p.Refresher.RevokeFamily(r.Context(), ac.FamilyID, "code_replay"); err != nil {
		p.Log.Error("revoke after code replay", "family", ac.FamilyID, "err", err)
	}
	p.Metrics.TokenRevoked("code_replay")
	p.record(r, audit.Event{Type: audit.SuspiciousActivity, User: ac.Subject, Session: ac.FamilyID, Client: c.ID, Risk: 80,
		Details: map[string]any{"reason": "authorization_code_replay", "code_client": ac.ClientID}})
	p.record(r, audit.Event{Type: audit.TokenRevoked, User: ac.Subject, Session: ac.FamilyID, Client: ac.ClientID,
		Details: map[string]any{"reason": "code_replay"}})
}

// redirectMatchesCode: the redirect URI sent to the token endpoint must be
// identical to the one the code was issued to (RFC 6749 §4.1.3). OAuth 2.1
// §4.1.3 lets a client omit it when its authorization request did; a
// client with a single registered redirect URI may have done so, so its
// omission is accepted when the code went to that URI (PKCE still binds
// the code to the client instance).
func redirectMatchesCode(sent string, ac storage.AuthCode, c Client) bool {
	if sent == "" {
		return len(c.RedirectURIs) == 1 && c.RedirectURIs[0] == ac.RedirectURI
	}
	return sent == ac.RedirectURI
}

// verifyPKCE checks the verifier against the S256 challenge (RFC 7636
// §4.1, §4.6) in constant time.
func verifyPKCE(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for i := range len(verifier) {
		b := verifier[i]
		if !isBase64URL(b) && b != '.' && b != '~' {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(encodeChallenge(sum[:])), []byte(challenge)) == 1
}
