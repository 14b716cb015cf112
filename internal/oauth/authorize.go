package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/clientmeta"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// Input bounds (SPEC HD-2): a parameter past these is refused, not
// truncated, and nothing longer ever reaches the store or a page.
const (
	maxStateLen = 1024
	maxScopeLen = 2048
	maxParamLen = 2048
)

// Limits on the authorization endpoint, which anyone may call without
// credentials and which writes a pending authorization to the store for
// every valid request (and, for an https client_id not seen before,
// fetches its metadata document). Besides these, rate_limits.authorize_ip
// limits each client address (SPEC RL-1).
const (
	// maxPendingAuthorizations caps the unexpired pending authorizations
	// of all clients together: the per-address limit bounds one
	// attacker, this bounds the store against many addresses at once.
	// Each lives at most authRequestTTL (10 min), so the cap allows a
	// sustained 16 new sign-ins a second across the deployment; past it
	// new ones are refused until old ones finish or expire, while flows
	// already started carry on.
	maxPendingAuthorizations = 10_000
	// pendingRecountEvery is how old the pending count may be. Counting
	// is an index range scan that grows with the count: measured on
	// SQLite, 15 µs with none pending but 1 ms at 9,000, which made a
	// whole authorization request 5 times dearer near the cap, that is
	// exactly when the gateway is under attack.
	pendingRecountEvery = time.Second
)

// authorize is the authorization endpoint (RFC 6749 §4.1.1, OAuth 2.1).
// It checks the client and redirect URI first: until both are known good,
// errors are shown on a page, never redirected (§4.1.2.1). Then it checks
// the rest, records a pending authorization bound to this browser, and
// sends the user to the consent step (SPEC AS-3).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	// First, before any work: the limit also bounds, per address, the
	// metadata-document fetches an unknown https client_id triggers
	// (authorizeClient), so past its burst one attacker cannot drive the
	// gateway to fetch URLs faster than the configured rate (SPEC AS-7,
	// RL-1).
	if !p.allowPage(w, r, "authorize", p.Limits.AuthorizeIP, ratelimit.ByIP(r)) {
		return
	}
	if err := r.ParseForm(); err != nil {
		p.showError(w, r, pageError("invalid_request", "The request could not be read."))
		return
	}
	f := r.Form
	for k, vs := range f {
		if len(vs) > 1 && k != "resource" {
			// RFC 6749 §3.1: parameters must not be repeated. A repeated
			// redirect_uri or client_id could be read differently by two
			// parsers; refuse before anything else.
			p.showError(w, r, pageError("invalid_request", "A parameter was sent more than once."))
			return
		}
	}
	client, redirectURI, perr := p.authorizeClient(r)
	if perr != nil {
		p.showError(w, r, perr)
		return
	}
	state := f.Get("state")
	if len(state) > maxStateLen {
		state = "" // never echo an oversized value into a redirect
		p.redirectError(w, r, redirectURI, state, errInvalidRequest("state is too long."))
		return
	}
	req, err := p.checkAuthorize(r, client)
	if err != nil {
		e := asError(err)
		p.Metrics.OAuthError("authorize", e.Code)
		p.record(r, audit.Event{Type: audit.OAuthFlowFailed, Client: client.ID, Details: map[string]any{"reason": e.Code, "step": "authorize"}})
		p.redirectError(w, r, redirectURI, state, e)
		return
	}
	now := p.Now()
	if e := p.checkPendingCap(r, now); e != nil {
		p.showError(w, r, e)
		return
	}
	req.ID = randomID()
	req.ClientID = client.ID
	req.RedirectURI = redirectURI
	req.State = state
	req.BrowserBinding = p.Sessions.BindFlow(w, r)
	req.CreatedAt = now
	req.ExpiresAt = now.Add(authRequestTTL)
	if err := p.Store.CreateAuthRequest(r.Context(), req); err != nil {
		p.showError(w, r, p.fail(r, "create auth request", err))
		return
	}
	p.pending.add()
	p.record(r, audit.Event{Type: audit.OAuthFlowStarted, Client: client.ID, Details: map[string]any{
		"resource": req.Resource, "scopes": req.Scopes, "registration": string(client.Source),
	}})
	p.redirect(w, r, p.url("/oauth/consent?req="+req.ID))
}

// checkPendingCap refuses a new pending authorization while
// maxPendingAuthorizations unexpired ones exist. It runs only for a
// request that passed every other check, just before the write it guards,
// so refused and invalid requests cost no count.
func (p *Provider) checkPendingCap(r *http.Request, now time.Time) *Error {
	full, err := p.pending.full(r.Context(), p.Store, now)
	if err != nil {
		return p.fail(r, "count auth requests", err)
	}
	if !full {
		return nil
	}
	p.record(r, audit.Event{Type: audit.RateLimitExceeded, Risk: 60, Details: map[string]any{"endpoint": "authorize", "limit": "pending_authorizations"}})
	return &Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable, NoRedirect: true,
		Description: "The sign-in service is busy. Try again in a few minutes."}
}

// pendingCounter knows roughly how many pending authorizations exist: a
// store count at most pendingRecountEvery old, plus those this instance
// created since. Requests arriving together wait for one count instead
// of each making their own. The figure misses, for up to a second, what
// other instances created and what expired, so the cap is a bound on the
// store that may be overshot by about a second's worth of new flows, not
// an exact quota; an expired flow frees its slot within a second.
type pendingCounter struct {
	mu sync.Mutex
	n  int
	at time.Time // when n was counted; zero: never
}

func (c *pendingCounter) full(ctx context.Context, s storage.Store, now time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || now.Sub(c.at) >= pendingRecountEvery || now.Before(c.at) {
		n, err := s.CountAuthRequests(ctx, now)
		if err != nil {
			return false, err
		}
		c.n, c.at = n, now
	}
	return c.n >= maxPendingAuthorizations, nil
}

// add counts a pending authorization this instance has just created.
func (c *pendingCounter) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

// authorizeClient resolves the client and the redirect URI. Errors here
// are about the client or the redirect URI, so they are page errors.
func (p *Provider) authorizeClient(r *http.Request) (Client, string, *Error) {
	id := r.Form.Get("client_id")
	if id == "" || len(id) > maxParamLen {
		return Client{}, "", pageError("invalid_request", "The client_id parameter is missing or invalid.")
	}
	client, err := p.clients.Get(r.Context(), id)
	if err != nil {
		if !errors.Is(err, errUnknownClient) {
			return Client{}, "", p.fail(r, "client lookup", err)
		}
		p.Log.Info("authorize: unknown client", "client_id", id, "err", err)
		return Client{}, "", pageError("invalid_client", "This application is not registered, or its registration could not be verified.")
	}
	requested := r.Form.Get("redirect_uri")
	if requested == "" {
		// OAuth 2.1 §4.1.1: optional only when exactly one is registered.
		if len(client.RedirectURIs) != 1 {
			return Client{}, "", pageError("invalid_request", "The redirect_uri parameter is required.")
		}
		requested = client.RedirectURIs[0]
	}
	uri, ok := clientmeta.MatchRedirectURI(client.RedirectURIs, requested)
	if !ok {
		return Client{}, "", pageError("invalid_request", "The redirect_uri does not match any URI registered for this application.")
	}
	return client, uri, nil
}

// checkAuthorize checks everything but the client and the redirect URI;
// its errors go back to the client by redirect.
func (p *Provider) checkAuthorize(r *http.Request, client Client) (storage.AuthRequest, error) {
	f := r.Form
	var req storage.AuthRequest
	if f.Get("response_type") != "code" {
		return req, errUnsupportedResponseType("Only response_type=code is supported.")
	}
	if !client.AllowsGrant("authorization_code") {
		return req, errUnauthorizedClient("The client is not registered for the authorization code grant.")
	}
	challenge, method := f.Get("code_challenge"), f.Get("code_challenge_method")
	// PKCE is mandatory and only S256 is accepted (OAuth 2.1 §4.1.1,
	// RFC 9700 §2.1.1): "plain" leaks the verifier to anyone who sees the
	// authorization request, and a missing method means plain (RFC 7636
	// §4.3), so a downgrade to either is refused.
	if challenge == "" {
		return req, errInvalidRequest("code_challenge is required (PKCE).")
	}
	if method != "S256" {
		return req, errInvalidRequest("code_challenge_method must be S256.")
	}
	if !validS256Challenge(challenge) {
		return req, errInvalidRequest("code_challenge is not a valid S256 challenge.")
	}
	resource, err := p.resolveResource(f["resource"])
	if err != nil {
		return req, err
	}
	scopes, err := p.requestedScopes(f.Get("scope"), resource, client)
	if err != nil {
		return req, err
	}
	prompt := f.Get("prompt")
	if !slices.Contains([]string{"", "none", "login", "consent"}, prompt) {
		return req, errInvalidRequest("Unsupported prompt value.")
	}
	req.CodeChallenge, req.CodeChallengeMethod = challenge, method
	req.Resource, req.Scopes, req.Prompt = resource, scopes, prompt
	return req, nil
}

// resolveResource maps the RFC 8707 resource parameter to a configured
// protected resource (the token audience). Absent, a deployment with one
// resource uses it; with several it cannot guess (SPEC AS-2).
func (p *Provider) resolveResource(values []string) (string, error) {
	switch {
	case len(values) > 1:
		return "", errInvalidTarget("Only one resource may be requested.")
	case len(values) == 0 || values[0] == "":
		if len(p.resources) == 1 {
			return p.resources[0], nil
		}
		return "", errInvalidTarget("The resource parameter is required.")
	}
	return p.matchResource(values[0])
}

// matchResource canonicalises raw and returns the configured resource it
// names, or invalid_target.
func (p *Provider) matchResource(raw string) (string, error) {
	c, err := tokens.CanonicalResource(raw)
	if err != nil || !slices.Contains(p.resources, c) {
		return "", errInvalidTarget("The requested resource is not served by this authorization server.")
	}
	return c, nil
}

// requestedScopes parses the scope parameter. Unknown scopes are refused
// (RFC 6749 §4.1.2.1 invalid_scope); a client whose scopes are capped
// (Client.ScopeCap) may ask only for those. Without a scope parameter the resource's
// required scopes are requested.
func (p *Provider) requestedScopes(raw, resource string, client Client) ([]string, error) {
	if len(raw) > maxScopeLen {
		return nil, errInvalidScope("The scope parameter is too long.")
	}
	scopes, ok := parseScope(raw)
	if !ok {
		return nil, errInvalidScope("The scope parameter is malformed.")
	}
	if len(scopes) == 0 {
		scopes = p.resourceScopes(resource)
	}
	for _, s := range scopes {
		if !p.scopes.Known(s) {
			return nil, errInvalidScope("The scope " + quoteScope(s) + " is not known.")
		}
		if limit := client.ScopeCap(); len(limit) > 0 && !p.scopes.Covers(limit, []string{s}) {
			return nil, errInvalidScope("The client may not request the scope " + quoteScope(s) + ".")
		}
	}
	return scopes, nil
}

// quoteScope quotes a scope for an error description. The description
// may hold only %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2), so the quotes
// are single ones and any other character, '"' and '\\' included, becomes
// '?'. Scopes reaching here passed scope.Parse, but the description must
// stay valid whatever it is given.
func quoteScope(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	out := make([]byte, 0, len(s)+2)
	out = append(out, '\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			c = '?'
		}
		out = append(out, c)
	}
	return string(append(out, '\''))
}

// resourceScopes are the scopes the upstream serving resource requires.
func (p *Provider) resourceScopes(resource string) []string {
	for _, u := range p.Config.Upstreams {
		if u.ExternalAuth != nil {
			continue
		}
		if c, err := tokens.CanonicalResource(p.issuer + u.Path); err == nil && c == resource {
			return slices.Clone(u.Scopes)
		}
	}
	return nil
}

// validS256Challenge: an S256 challenge is the base64url of a SHA-256
// without padding (RFC 7636 §4.2): 43 characters, the last of which
// carries 2 unused bits that must be zero. A challenge with them set
// decodes leniently to some hash but equals the encoding of none, so no
// verifier could ever redeem the code; it is refused up front.
func validS256Challenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(c)
	return err == nil && len(raw) == sha256.Size
}

func isBase64URL(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}
