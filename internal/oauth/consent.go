package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/clientmeta"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// pendingRequest loads the pending authorization a consent or login step
// names, and checks it belongs to this browser: the flow cookie set at
// /authorize must be presented (login CSRF and session swapping defence,
// SPEC AS-3). An attacker who starts a flow and lures a victim to its next
// step cannot make the victim's browser present the attacker's cookie.
func (p *Provider) pendingRequest(r *http.Request, id string) (storage.AuthRequest, Client, *Error) {
	if id == "" || len(id) > 64 {
		return storage.AuthRequest{}, Client{}, pageError("invalid_request", "This sign-in link is incomplete.")
	}
	req, err := p.Store.GetAuthRequest(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && req.ExpiresAt.Before(p.Now())) {
		return req, Client{}, pageError("invalid_request", "This sign-in has expired or was already used. Start again from the application.")
	}
	if err != nil {
		return req, Client{}, p.fail(r, "load auth request", err)
	}
	if !p.Sessions.CheckFlow(r, req.BrowserBinding) {
		p.record(r, audit.Event{Type: audit.SuspiciousActivity, Client: req.ClientID, Risk: 60,
			Details: map[string]any{"reason": "flow_not_bound_to_browser", "step": "consent_or_login"}})
		return req, Client{}, pageError("invalid_request", "This sign-in was started in another browser. Start again from the application.")
	}
	client, err := p.clients.Get(r.Context(), req.ClientID)
	if err != nil {
		return req, Client{}, pageError("invalid_client", "This application is no longer registered.")
	}
	return req, client, nil
}

// consentPage shows what the client asks for (SPEC AS-3), or skips the
// page when this user already approved exactly this (or more) and the
// client did not ask to be asked again.
func (p *Provider) consentPage(w http.ResponseWriter, r *http.Request) {
	req, client, perr := p.pendingRequest(r, r.URL.Query().Get("req"))
	if perr != nil {
		p.showError(w, r, perr)
		return
	}
	sess, signedIn := p.currentSession(r)
	if signedIn && req.Prompt != "consent" && req.Prompt != "login" {
		covered, err := p.consentCovers(r.Context(), client, req, sess.Subject)
		if err != nil {
			p.showError(w, r, p.fail(r, "consent lookup", err))
			return
		}
		if covered {
			p.finish(w, r, req, client, sess, false)
			return
		}
	}
	if req.Prompt == "none" {
		e := &Error{Code: "consent_required", Description: "User interaction is required."}
		if !signedIn {
			e.Code = "login_required"
		}
		p.redirectError(w, r, req.RedirectURI, req.State, e)
		return
	}
	p.renderConsent(w, r, req, client, sess, signedIn)
}

// currentSession is the browser's session, unless the kill switch has
// revoked the login it came from (a session the kill switch's delete
// raced past), or the user can no longer be confirmed with their provider.
// A refused session is deleted and the end audited.
func (p *Provider) currentSession(r *http.Request) (storage.BrowserSession, bool) {
	sess, ok := p.Sessions.Current(r)
	if !ok {
		return sess, false
	}
	reason := ""
	if p.Verifier.Revoked.AuthRevoked(sess.Subject, sess.AuthTime) {
		reason = "kill_switch"
	} else {
		sess, reason = p.recheckSession(r, sess)
	}
	if reason != "" {
		p.Store.DeleteBrowserSession(r.Context(), sess.ID)
		p.record(r, audit.Event{Type: audit.SessionTerminated, User: sess.Subject, Session: sess.ID,
			Provider: sess.ProviderID, Details: map[string]any{"reason": reason}})
		return storage.BrowserSession{}, false
	}
	return sess, true
}

// recheckSession re-checks a session older than userCheckEvery with its
// provider before it starts a grant (SPEC AS-6 asks this of refresh; a
// browser session could otherwise start new grants for its whole absolute
// lifetime). Changed groups and email are taken into the session. A provider that
// cannot answer keeps the session for userCheckFailOpen after login, then
// not: the user must log in again. It returns the reason the session must
// end, or "".
func (p *Provider) recheckSession(r *http.Request, sess storage.BrowserSession) (storage.BrowserSession, string) {
	age := p.Now().Sub(sess.AuthTime)
	if age < userCheckEvery {
		return sess, ""
	}
	conn, known := p.connectors[sess.ProviderID]
	if !known {
		return sess, "provider_removed"
	}
	if _, ok := conn.(login.RefreshConnector); !ok {
		return sess, ""
	}
	seen := login.Identity{Groups: sess.Groups, Email: sess.Email, EmailVerified: sess.EmailVerified}
	id, err := p.Users.Recheck(r.Context(), sess.Subject, sess.ProviderID, seen)
	switch {
	case errors.Is(err, login.ErrUserGone):
		return sess, "user_gone"
	case err != nil && age >= userCheckFailOpen:
		return sess, "user_check_failed"
	case err != nil:
		return sess, ""
	}
	if !slices.Equal(id.Groups, sess.Groups) || id.Email != sess.Email || id.EmailVerified != sess.EmailVerified {
		sess.Groups = slices.Clone(id.Groups)
		sess.Email, sess.EmailVerified = id.Email, id.EmailVerified
		p.Store.UpdateBrowserSession(r.Context(), sess.ID, func(s storage.BrowserSession) (storage.BrowserSession, error) {
			s.Groups = slices.Clone(id.Groups)
			s.Email, s.EmailVerified = id.Email, id.EmailVerified
			return s, nil
		})
	}
	return sess, ""
}

// consentCovers reports whether the user's standing approval covers this
// request: the same client, redirect URI and resource, and every scope
// approved before (anything broader asks again). First-party clients
// configured as such skip consent.
func (p *Provider) consentCovers(ctx context.Context, client Client, req storage.AuthRequest, subject string) (bool, error) {
	if client.FirstParty {
		return true, nil
	}
	stored, err := p.Store.GetConsent(ctx, subject, client.ID, consentRedirect(client, req.RedirectURI), req.Resource)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// The hierarchy holds here too (SPEC AS-9): approving files:write
	// covers a later request for files:read.
	stored.Scopes = p.scopes.Expand(stored.Scopes)
	return session.ConsentCovers(stored, req.Scopes, p.Now()), nil
}

// consentRedirect is the redirect URI an approval is stored under: the
// registered URI the request matched. A native app listening on a new
// loopback port each run (RFC 8252 §7.3) is still the same redirect, and
// must not be asked again, nor leave one stored approval per port.
func consentRedirect(c Client, requested string) string {
	for _, reg := range c.RedirectURIs {
		if _, ok := clientmeta.MatchRedirectURI([]string{reg}, requested); ok {
			return reg
		}
	}
	return requested
}

// consentSubmit records the user's decision. Approval comes before the
// user is sent to log in (or, already signed in, finishes the flow), so no
// upstream IdP is contacted for a client the user has not approved.
func (p *Provider) consentSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.showError(w, r, pageError("invalid_request", "The form could not be read."))
		return
	}
	req, client, perr := p.pendingRequest(r, r.PostForm.Get("req"))
	if perr != nil {
		p.showError(w, r, perr)
		return
	}
	if r.PostForm.Get("action") != "approve" {
		p.Store.DeleteAuthRequest(r.Context(), req.ID)
		p.record(r, audit.Event{Type: audit.OAuthFlowFailed, Client: client.ID, Details: map[string]any{"reason": "access_denied", "step": "consent"}})
		p.redirectError(w, r, req.RedirectURI, req.State, errAccessDenied("The user denied the request."))
		return
	}
	err := p.Store.UpdateAuthRequest(r.Context(), req.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
		a.ConsentGranted = true
		return a, nil
	})
	if err != nil {
		p.showError(w, r, p.fail(r, "record consent", err))
		return
	}
	req.ConsentGranted = true
	if sess, ok := p.currentSession(r); ok && req.Prompt != "login" {
		p.finish(w, r, req, client, sess, true)
		return
	}
	p.redirect(w, r, p.url("/oauth/login?req="+url.QueryEscape(req.ID)))
}

// RevokeConsent withdraws a user's approvals of a client (SPEC AS-3) and
// revokes the grants they allowed, access tokens included (SPEC AS-5a):
// an approval taken back must not leave the client holding live tokens.
// It returns how many approvals and grants it removed.
func (p *Provider) RevokeConsent(ctx context.Context, subject, clientID string) (consents, grants int, err error) {
	if subject == "" || clientID == "" {
		return 0, 0, errors.New("revoke consent: empty subject or client")
	}
	if consents, err = p.Consents.Revoke(ctx, subject, clientID); err != nil {
		return 0, 0, err
	}
	ids, err := p.Refresher.RevokeGrants(ctx, subject, clientID, "consent_revoked")
	for range ids {
		p.Metrics.TokenRevoked("consent_revoked")
	}
	return consents, len(ids), err
}
