package oauth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"unicode"
	"unicode/utf8"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/reqid"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// loginPage sends an approved pending authorization to a login: the
// provider chooser when several are configured, the local form, or the
// upstream IdP.
func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	if !p.allowPage(w, r, "login", p.Limits.LoginIP, ratelimit.ByIP(r)) {
		return
	}
	q := r.URL.Query()
	req, client, perr := p.pendingRequest(r, q.Get("req"))
	if perr != nil {
		p.showError(w, r, perr)
		return
	}
	if !req.ConsentGranted {
		// Login only after consent (SPEC AS-3): never contact an IdP for a
		// client the user has not approved.
		p.redirect(w, r, p.url("/oauth/consent?req="+url.QueryEscape(req.ID)))
		return
	}
	conn := p.chooseConnector(q.Get("provider"))
	if conn == nil {
		p.renderChooser(w, r, req, client)
		return
	}
	switch c := conn.(type) {
	case login.PasswordConnector:
		p.renderLogin(w, r, req, client, c, q.Get("error"))
	case login.RedirectConnector:
		p.startUpstream(w, r, req, c)
	default:
		p.showError(w, r, p.fail(r, "login", errors.New("connector has no login method")))
	}
}

func (p *Provider) chooseConnector(id string) login.Connector {
	if id != "" {
		return p.connectors[id]
	}
	if len(p.Connectors) == 1 {
		return p.Connectors[0]
	}
	return nil
}

// loginSubmit checks a local username and password. Every outcome answers
// 303 (RFC 9700 §4.12; a failure goes back to the form by GET), so
// reloading a page never re-posts a password.
//
// Besides the password throttle (per username and IP, on failures), the
// address limit counts every attempt: each costs an argon2id or bcrypt
// hash, which a flood of well-formed posts would otherwise turn into a
// CPU exhaustion attack (SPEC RL-1).
func (p *Provider) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if !p.allowPage(w, r, "login", p.Limits.LoginIP, ratelimit.ByIP(r)) {
		return
	}
	if err := r.ParseForm(); err != nil {
		p.showError(w, r, pageError("invalid_request", "The form could not be read."))
		return
	}
	f := r.PostForm
	req, client, perr := p.pendingRequest(r, f.Get("req"))
	if perr != nil {
		p.showError(w, r, perr)
		return
	}
	conn, ok := p.connectors[f.Get("provider")].(login.PasswordConnector)
	if !ok || !req.ConsentGranted {
		p.showError(w, r, pageError("invalid_request", "This sign-in step is not available."))
		return
	}
	retry := p.url("/oauth/login?" + url.Values{"req": {req.ID}, "provider": {conn.ID()}, "error": {"1"}}.Encode())
	username, password, ip := f.Get("username"), f.Get("password"), clientIP(r)
	if allowed, _ := p.Throttle.Allow(username, ip); !allowed {
		p.record(r, audit.Event{Type: audit.LoginFailed, Client: client.ID, Provider: conn.ID(), Risk: 50,
			Details: withUsername(map[string]any{"reason": "locked_out"}, username)})
		p.redirect(w, r, retry)
		return
	}
	id, err := conn.Login(r.Context(), username, password)
	if errors.Is(err, login.ErrNotAllowed) {
		p.notAllowed(w, r, client.ID, conn.ID())
		return
	}
	if err != nil {
		if !errors.Is(err, login.ErrBadCredentials) {
			p.showError(w, r, p.fail(r, "local login", err))
			return
		}
		locked := p.Throttle.Failure(username, ip)
		risk := 20
		if locked {
			risk = 70
		}
		p.record(r, audit.Event{Type: audit.LoginFailed, Client: client.ID, Provider: conn.ID(), Risk: risk,
			Details: withUsername(map[string]any{"reason": "bad_credentials", "locked": locked}, username)})
		p.redirect(w, r, retry)
		return
	}
	p.Throttle.Success(username, ip)
	p.completeLogin(w, r, req, client, conn.ID(), id)
}

// maxAuditUsername is the longest username an audit event records as
// typed.
const maxAuditUsername = 64

// withUsername adds the username of a failed login to audit details. A
// username is what an investigator needs (who is being guessed at), but
// the field takes whatever is typed or posted into it, and the audit log
// is append-only and shipped elsewhere. So only a plausible username (at
// most 64 bytes of printable UTF-8) is recorded as is. Anything else, a
// pasted token or passphrase, a payload or a flood of bytes meant to
// bloat the log, is recorded as username_truncated plus the first 64 bits
// of its SHA-256: no readable prefix of a secret reaches the log, yet
// repeated attempts with the same value still correlate. (A short
// password typed into the username field still looks like a username and
// is recorded; telling them apart would need the user directory.)
func withUsername(details map[string]any, username string) map[string]any {
	if len(username) <= maxAuditUsername && printable(username) {
		details["username"] = username
		return details
	}
	sum := sha256.Sum256([]byte(username))
	details["username_truncated"] = true
	details["username_sha256"] = hex.EncodeToString(sum[:8])
	return details
}

// printable reports whether s is valid UTF-8 of printable characters
// (no control characters, no line or paragraph separators).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return false
		}
	}
	return true
}

// upstreamSecrets travel sealed in the pending authorization between the
// redirect to the IdP and its callback.
type upstreamSecrets struct {
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
}

// startUpstream creates the upstream state only now, after approval
// (SPEC AS-3): single-use, bound to this pending authorization and, via
// the flow cookie checked at the callback, to this browser.
func (p *Provider) startUpstream(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, c login.RedirectConnector) {
	state, verifier, nonce := randomSecret(), randomSecret(), randomSecret()
	raw, _ := json.Marshal(upstreamSecrets{Verifier: verifier, Nonce: nonce})
	sealed, err := p.Seal.Seal(seal.PurposeState, raw, []byte(req.ID))
	if err != nil {
		p.showError(w, r, p.fail(r, "seal upstream state", err))
		return
	}
	stateHash := sha256.Sum256([]byte(state))
	err = p.Store.UpdateAuthRequest(r.Context(), req.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
		a.ProviderID, a.UpstreamStateHash, a.UpstreamSealed = c.ID(), stateHash[:], sealed
		return a, nil
	})
	if err != nil {
		p.showError(w, r, p.fail(r, "store upstream state", err))
		return
	}
	challenge := sha256.Sum256([]byte(verifier))
	target, err := c.LoginURL(p.callbackURL(c.ID()), state, encodeChallenge(challenge[:]), nonce)
	if errors.Is(err, login.ErrProviderUnavailable) {
		// The IdP is down (discovery failed): not the user's fault and not
		// the client's; the page says to try again later.
		p.Log.Warn("identity provider unavailable", "provider", c.ID(), "request_id", reqid.From(r.Context()), "err", err)
		p.record(r, audit.Event{Type: audit.LoginFailed, Client: req.ClientID, Provider: c.ID(), Risk: 10,
			Details: map[string]any{"reason": "provider_unavailable", "step": "start"}})
		p.showError(w, r, errProviderUnavailable())
		return
	}
	if err != nil {
		p.showError(w, r, p.fail(r, "upstream login URL", err))
		return
	}
	p.redirect(w, r, target)
}

func (p *Provider) callbackURL(provider string) string {
	return p.url("/oauth/callback/" + url.PathEscape(provider))
}

// callback finishes an upstream login. The state must name a pending
// authorization of this provider, and the browser must present that
// authorization's flow cookie: a callback carrying an attacker's state in
// a victim's browser (login CSRF) is refused.
//
// Every callback costs a call to the IdP's token endpoint, so it is rate
// limited per address first (SPEC RL-1).
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) {
	if !p.allowPage(w, r, "callback", p.Limits.CallbackIP, ratelimit.ByIP(r)) {
		return
	}
	provider := r.PathValue("provider")
	conn, ok := p.connectors[provider].(login.RedirectConnector)
	state := r.URL.Query().Get("state")
	if !ok || state == "" || len(state) > maxStateLen {
		p.callbackRefused(r, provider, "", "invalid_state")
		p.showError(w, r, pageError("invalid_request", "This sign-in response is not valid."))
		return
	}
	stateHash := sha256.Sum256([]byte(state))
	req, err := p.Store.GetAuthRequestByUpstreamState(r.Context(), stateHash[:])
	switch {
	case err != nil || req.ProviderID != provider || !req.ConsentGranted:
		// An unknown, used or foreign state: a replayed or forged callback.
		p.callbackRefused(r, provider, req.ClientID, "invalid_state")
		p.showError(w, r, pageError("invalid_request", "This sign-in response is not valid or has expired."))
		return
	case req.ExpiresAt.Before(p.Now()):
		p.callbackRefused(r, provider, req.ClientID, "expired_state")
		p.showError(w, r, pageError("invalid_request", "This sign-in response is not valid or has expired."))
		return
	}
	req, client, perr := p.pendingRequest(r, req.ID)
	if perr != nil {
		p.showError(w, r, perr)
		return
	}
	// Single use: clear the state before talking to the IdP, so a second
	// callback with the same state finds nothing.
	var sealed []byte
	err = p.Store.UpdateAuthRequest(r.Context(), req.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
		if string(a.UpstreamStateHash) != string(stateHash[:]) {
			return a, errStateUsed
		}
		sealed = a.UpstreamSealed
		a.UpstreamStateHash, a.UpstreamSealed = nil, nil
		return a, nil
	})
	if err != nil {
		p.callbackRefused(r, provider, req.ClientID, "state_reused")
		p.showError(w, r, pageError("invalid_request", "This sign-in response was already used."))
		return
	}
	raw, err := p.Seal.Open(seal.PurposeState, sealed, []byte(req.ID))
	var secrets upstreamSecrets
	if err != nil || json.Unmarshal(raw, &secrets) != nil {
		p.showError(w, r, p.fail(r, "open upstream state", err))
		return
	}
	id, err := conn.HandleCallback(r.Context(), p.callbackURL(provider), r.URL.Query(), secrets.Verifier, secrets.Nonce)
	if err != nil {
		p.upstreamFailed(w, r, req, client, provider, err)
		return
	}
	p.completeLogin(w, r, req, client, provider, id)
}

// callbackRefused audits a callback refused before the IdP is asked: its
// state is unknown, used, expired or another provider's. A forged or
// replayed callback is what login CSRF looks like, so it is on record.
func (p *Provider) callbackRefused(r *http.Request, provider, clientID, reason string) {
	if _, ok := p.connectors[provider]; !ok {
		provider = "" // the path is the caller's text; record only real IDs
	}
	p.record(r, audit.Event{Type: audit.LoginFailed, Client: clientID, Provider: provider, Risk: 40,
		Details: map[string]any{"reason": reason, "step": "callback"}})
}

// upstreamFailed ends a login the IdP did not complete, with an audit
// event and an answer that says what happened without any internals:
//   - the user or the IdP refused (RFC 6749 §4.1.2.1 error response, such
//     as access_denied at the consent screen): access_denied to the client;
//   - the IdP is down: temporarily_unavailable to the client;
//   - the IdP authenticated the user but the provider's configuration does
//     not admit them (ErrNotAllowed): a 403 page, never a grant;
//   - anything else (an ID token that fails verification, a nonce of
//     another login, a refused code): access_denied, with a higher risk,
//     since a forged token is one way to get here.
func (p *Provider) upstreamFailed(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client Client, provider string, err error) {
	p.Log.Info("upstream login failed", "provider", provider, "request_id", reqid.From(r.Context()), "err", err)
	event := audit.Event{Type: audit.LoginFailed, Client: client.ID, Provider: provider, Risk: 50,
		Details: map[string]any{"reason": "upstream_rejected"}}
	answer := errAccessDenied("The identity provider did not authenticate the user.")
	var ce *login.CallbackError
	switch {
	case errors.As(err, &ce):
		event.Risk, event.Details = 10, map[string]any{"reason": "provider_error", "provider_error": ce.Code}
		switch ce.Code {
		case "access_denied":
			event.Details["reason"] = "denied_at_provider"
			answer = errAccessDenied("The sign-in was denied at the identity provider.")
		case "temporarily_unavailable", "server_error":
			answer = errTemporarilyUnavailable("The identity provider is unavailable. Try again later.")
		}
	case errors.Is(err, login.ErrProviderUnavailable):
		event.Risk, event.Details = 10, map[string]any{"reason": "provider_unavailable", "step": "callback"}
		answer = errTemporarilyUnavailable("The identity provider is unavailable. Try again later.")
	case errors.Is(err, login.ErrNotAllowed):
		p.notAllowed(w, r, client.ID, provider)
		return
	}
	p.record(r, event)
	p.redirectError(w, r, req.RedirectURI, req.State, answer)
}

// notAllowed answers a user the provider authenticated but its
// configuration does not admit (login.ErrNotAllowed): 403, audited.
func (p *Provider) notAllowed(w http.ResponseWriter, r *http.Request, clientID, provider string) {
	p.record(r, audit.Event{Type: audit.LoginFailed, Client: clientID, Provider: provider, Risk: 40,
		Details: map[string]any{"reason": "not_allowed"}})
	p.showError(w, r, &Error{Code: "access_denied", Status: http.StatusForbidden, NoRedirect: true,
		Description: "Your account is not allowed to sign in to this gateway. Ask an administrator for access."})
}

// errProviderUnavailable is the page shown when the IdP cannot be reached
// at the start of a login.
func errProviderUnavailable() *Error {
	return &Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable, NoRedirect: true,
		Description: "The identity provider cannot be reached right now. Try again in a few minutes."}
}

var errStateUsed = errors.New("upstream state already used")

// completeLogin starts a fresh browser session for the user (a new ID,
// defeating session fixation, SPEC SE-1) and finishes the authorization.
func (p *Provider) completeLogin(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client Client, provider string, id login.Identity) {
	now := p.Now()
	sess, err := p.Sessions.Login(r.Context(), w, r, storage.BrowserSession{
		Subject:       provider + ":" + id.Subject,
		ProviderID:    provider,
		Email:         id.Email,
		EmailVerified: id.EmailVerified,
		Name:          id.Name,
		Groups:        id.Groups,
		AuthTime:      now,
	})
	if err != nil {
		p.showError(w, r, p.fail(r, "create browser session", err))
		return
	}
	if err := p.Users.Keep(r.Context(), sess.Subject, provider, id.ConnectorData); err != nil {
		p.showError(w, r, p.fail(r, "store connector data", err))
		return
	}
	p.finish(w, r, req, client, sess, true)
}

// logout ends the browser session.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	if err := p.Sessions.Logout(r.Context(), w, r); err != nil {
		p.showError(w, r, p.fail(r, "logout", err))
		return
	}
	p.renderMessage(w, r, "Signed out", "You are signed out of mcpgate.")
}
