package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// finish ends a pending authorization for a signed-in user: it decides the
// scopes the user may actually receive, stores the consent the user just
// gave, issues the code and sends the browser back to the client.
//
// The scope decision happens here, with the user known, and not on the
// consent page: approving a request can never hand a scope to someone its
// restrictions exclude (SPEC AS-9).
func (p *Provider) finish(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client Client, sess storage.BrowserSession, approvedNow bool) {
	ctx := r.Context()
	// Claim the pending authorization first: the delete succeeds for one
	// caller only, so a double-submitted consent form (or two tabs) cannot
	// turn one authorization into several codes.
	if err := p.Store.DeleteAuthRequest(ctx, req.ID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			p.showError(w, r, pageError("invalid_request", "This sign-in was already completed. Start again from the application."))
			return
		}
		p.showError(w, r, p.fail(r, "claim auth request", err))
		return
	}
	principal := Principal{Subject: sess.Subject, Provider: sess.ProviderID, Groups: sess.Groups}
	granted := p.scopes.Grantable(req.Scopes, principal)
	if len(req.Scopes) > 0 && len(granted) == 0 {
		p.record(r, audit.Event{Type: audit.OAuthFlowFailed, User: sess.Subject, Client: client.ID, Provider: sess.ProviderID,
			Details: map[string]any{"reason": "no_grantable_scope", "requested": req.Scopes}})
		p.redirectError(w, r, req.RedirectURI, req.State, errAccessDenied("The user may not grant any of the requested scopes."))
		return
	}
	now := p.Now()
	if approvedNow && !client.FirstParty {
		if err := p.Consents.Grant(ctx, sess.Subject, client.ID, consentRedirect(client, req.RedirectURI), req.Resource, req.Scopes); err != nil {
			p.showError(w, r, p.fail(r, "store consent", err))
			return
		}
		p.record(r, audit.Event{Type: audit.ConsentGranted, User: sess.Subject, Client: client.ID, Provider: sess.ProviderID,
			Details: map[string]any{"resource": req.Resource, "scopes": req.Scopes, "redirect_uri": req.RedirectURI}})
	}
	code := randomSecret()
	hash := sha256.Sum256([]byte(code))
	email, verified := verifiedEmail(sess.Email, sess.EmailVerified)
	err := p.Store.CreateAuthCode(ctx, storage.AuthCode{
		Hash:                hash[:],
		ClientID:            client.ID,
		RedirectURI:         req.RedirectURI,
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: req.CodeChallengeMethod,
		Resource:            req.Resource,
		Scopes:              granted,
		Subject:             sess.Subject,
		ProviderID:          sess.ProviderID,
		Groups:              slices.Clone(sess.Groups),
		Email:               email,
		EmailVerified:       verified,
		AuthTime:            sess.AuthTime,
		FamilyID:            randomID(),
		CreatedAt:           now,
		ExpiresAt:           now.Add(codeTTL),
	})
	if err != nil {
		p.showError(w, r, p.fail(r, "create code", err))
		return
	}
	p.record(r, audit.Event{Type: audit.OAuthFlowCompleted, User: sess.Subject, Client: client.ID, Provider: sess.ProviderID,
		Details: map[string]any{"resource": req.Resource, "scopes": granted}})
	q := url.Values{"code": {code}, "iss": {p.issuer}}
	if req.State != "" {
		q.Set("state", req.State)
	}
	p.redirect(w, r, withQuery(req.RedirectURI, q))
}

// verifiedEmail is the email a grant carries: the provider's, only when it
// marked the address verified. An unverified email is not worth keeping:
// policy users rules and identity headers may trust only a verified one
// (SPEC PX-7, PX-8), and anyone can type any address into an IdP profile.
func verifiedEmail(email string, verified bool) (string, bool) {
	if !verified || email == "" {
		return "", false
	}
	return email, true
}

func encodeChallenge(sum []byte) string { return base64.RawURLEncoding.EncodeToString(sum) }
