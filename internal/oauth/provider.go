package oauth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/clientip"
	"github.com/mcpgate/mcpgate/internal/clientmeta"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/reqid"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/tokens"
	"github.com/mcpgate/mcpgate/internal/usertoken"
)

// Lifetimes the issue fixes rather than configures.
const (
	// codeTTL: RFC 6749 §4.1.2 recommends at most 10 minutes; a client
	// redeems at once, so a short life shrinks the window for a leaked code.
	codeTTL = 60 * time.Second
	// authRequestTTL bounds a pending authorization (consent and login).
	authRequestTTL = 10 * time.Minute
	// userCheckEvery: a refresh re-checks the user with the provider at
	// least this often (SPEC AS-6).
	userCheckEvery = 15 * time.Minute
	// userCheckFailOpen: while the provider cannot be reached, a grant
	// keeps refreshing for at most this long after its last good check.
	userCheckFailOpen = time.Hour
)

// Keys is what the endpoints need from the signing keys.
type Keys interface {
	JWKS() []byte
}

// Metrics counts what the endpoints do (SPEC OP-1).
type Metrics interface {
	TokenIssued(grant string)
	TokenRevoked(kind string)
	RefreshReuse()
	OAuthError(endpoint, code string)
}

// Deps are the parts the composition root builds and hands in.
type Deps struct {
	Config     *config.Config
	Store      storage.Store
	Seal       *seal.Keyring
	Keys       Keys
	Minter     *tokens.Minter
	Verifier   *tokens.Verifier
	Refresher  *tokens.Refresher
	Sessions   *session.Manager
	Consents   *session.Consents
	Connectors []login.Connector // in configuration order
	// Users keeps the connectors' per-user data and runs user re-checks
	// (internal/usertoken); nil builds one over Store. The composition
	// root passes the one the proxy uses, so a re-check and an upstream
	// token refresh of one user never run at once in this process.
	Users    ConnectorState
	Throttle login.Limiter
	// Limits applies the rate limits (SPEC RL-1); required.
	Limits  *ratelimit.Guard
	Fetcher *clientmeta.Fetcher
	Audit   func(ctx context.Context, e audit.Event)
	Metrics Metrics
	Log     *slog.Logger
	Now     func() time.Time
}

// ConnectorState keeps a connector's per-user state (the local
// connector's password stamp, an OIDC connector's upstream tokens) sealed
// in the upstream-token record, so that re-checks can hand it back to the
// connector's Refresh (SPEC AS-6, ID-5): without it the local connector
// can only check that a user still exists, not that their password was
// not reset. It is per user, not per grant: a newer login replaces it. An
// operator resetting a compromised password should also run the kill
// switch, which ends every grant at once (docs/operations.md).
// *usertoken.Manager implements it.
type ConnectorState interface {
	// Keep stores a login's connector data for the user.
	Keep(ctx context.Context, subject, provider string, data []byte) error
	// Recheck calls the connector's Refresh with the stored data and
	// stores what it returns; for token connectors it runs one at a time
	// per user and provider, across instances, with upstream token
	// refreshes (a rotating refresh token must not be redeemed twice).
	Recheck(ctx context.Context, subject, provider string, seen login.Identity) (login.Identity, error)
}

// Provider is the authorization server.
type Provider struct {
	Deps
	issuer     string
	resources  []string // canonical resource URIs
	scopes     *scopeCatalogue
	policy     clientmeta.Policy
	clients    *clientDirectory
	connectors map[string]login.Connector
	// policyGroups are the groups some rule names; only those go into
	// tokens (SPEC AS-5), so a user in hundreds of IdP groups does not
	// bloat every token or reveal unrelated memberships.
	policyGroups map[string]bool
	pages        *pages
	// grants maps grant_type to the grant type's handler (token.go).
	grants map[string]grantHandler
	// pending caps the pending authorizations (authorize.go).
	pending pendingCounter
}

// New builds the authorization server. cfg must be validated.
func New(d Deps) (*Provider, error) {
	cfg := d.Config
	p := &Provider{Deps: d, issuer: cfg.PublicURL, scopes: newScopeCatalogue(cfg.ScopeCatalogue())}
	for _, r := range cfg.Resources() {
		c, err := tokens.CanonicalResource(r)
		if err != nil {
			return nil, fmt.Errorf("resource %q: %w", r, err)
		}
		p.resources = append(p.resources, c)
	}
	p.policy = clientmeta.Policy{
		PrivateUseSchemes:         cfg.Registration.PrivateUseSchemes,
		AllowReverseDomainSchemes: cfg.Registration.ReverseDomainSchemesEnabled(),
	}
	clients, err := newClientDirectory(p, cfg.Clients)
	if err != nil {
		return nil, err
	}
	p.clients = clients
	if p.Users == nil {
		users, err := usertoken.New(usertoken.Options{Store: d.Store, Seal: d.Seal, Connectors: d.Connectors, Log: d.Log, Now: d.Now})
		if err != nil {
			return nil, err
		}
		p.Users = users
	}
	p.connectors = make(map[string]login.Connector, len(d.Connectors))
	for _, c := range d.Connectors {
		p.connectors[c.ID()] = c
	}
	p.policyGroups = policyGroups(cfg)
	p.grants = map[string]grantHandler{
		"authorization_code": p.codeGrant,
		"refresh_token":      p.refreshGrant,
	}
	if p.pages, err = newPages(); err != nil {
		return nil, err
	}
	return p, nil
}

// Route is one endpoint for the composition root to mount under its own
// middleware and metrics name.
type Route struct {
	Pattern string
	Name    string
	Handler http.Handler
}

// Routes lists the endpoints. Paths live under /oauth/ and /.well-known/,
// both reserved in the config so no upstream can shadow them.
func (p *Provider) Routes() []Route {
	pageRoute := func(h http.HandlerFunc) http.Handler { return pageHeaders(h) }
	// formRoute is a page that takes a form: its body is capped before any
	// handler parses it (SPEC HD-2).
	formRoute := func(h http.HandlerFunc) http.Handler { return pageHeaders(p.limitBody(maxPageFormBytes, h)) }
	routes := []Route{
		{"GET /.well-known/oauth-authorization-server", "as_metadata", cors(http.HandlerFunc(p.metadata))},
		{"GET /oauth/jwks", "jwks", cors(http.HandlerFunc(p.jwks))},
		{"GET /oauth/authorize", "authorize", pageRoute(p.authorize)},
		{"POST /oauth/authorize", "authorize", formRoute(p.authorize)},
		{"GET /oauth/consent", "consent", pageRoute(p.consentPage)},
		{"POST /oauth/consent", "consent", csrf(formRoute(p.consentSubmit))},
		{"GET /oauth/login", "login", pageRoute(p.loginPage)},
		{"POST /oauth/login", "login", csrf(formRoute(p.loginSubmit))},
		{"GET /oauth/callback/{provider}", "callback", pageRoute(p.callback)},
		{"POST /oauth/logout", "logout", csrf(formRoute(p.logout))},
		{"POST /oauth/token", "token", cors(http.HandlerFunc(p.token))},
		{"POST /oauth/revoke", "revoke", cors(http.HandlerFunc(p.revoke))},
		{"POST /oauth/introspect", "introspect", http.HandlerFunc(p.introspect)},
	}
	preflight := []string{"/oauth/jwks", "/oauth/token", "/oauth/revoke", "/.well-known/oauth-authorization-server"}
	if p.Config.Registration.DynamicEnabled() {
		routes = append(routes, Route{"POST /oauth/register", "register", cors(http.HandlerFunc(p.register))})
		preflight = append(preflight, "/oauth/register")
	}
	for _, path := range preflight {
		routes = append(routes, Route{"OPTIONS " + path, "cors_preflight", cors(http.NotFoundHandler())})
	}
	return routes
}

func (p *Provider) url(path string) string { return p.issuer + path }

// record writes an audit event with the request's ID and client address.
func (p *Provider) record(r *http.Request, e audit.Event) {
	if p.Audit == nil {
		return
	}
	e.RequestID = reqid.From(r.Context())
	if e.IP == "" {
		e.IP = clientIP(r)
	}
	if e.UserAgent == "" {
		e.UserAgent = r.UserAgent()
	}
	p.Audit(r.Context(), e)
}

// fail logs an internal error with the request ID; the client sees only
// server_error.
func (p *Provider) fail(r *http.Request, what string, err error) *Error {
	p.Log.Error(what, "request_id", reqid.From(r.Context()), "err", err)
	return errServer()
}

// clientIP is the request's client address, resolved once by the server
// through trusted_proxies (internal/clientip): login throttling, rate
// limits and audit events all see the same address.
func clientIP(r *http.Request) string { return clientip.From(r) }

func policyGroups(cfg *config.Config) map[string]bool {
	out := map[string]bool{}
	for _, s := range cfg.ScopeCatalogue() {
		for _, g := range s.Groups {
			out[g] = true
		}
	}
	for _, u := range cfg.Upstreams {
		for _, t := range u.Tools {
			for _, g := range t.Groups {
				out[g] = true
			}
		}
	}
	return out
}

func (p *Provider) tokenGroups(groups []string) []string {
	var out []string
	for _, g := range groups {
		if p.policyGroups[g] {
			out = append(out, g)
		}
	}
	return out
}
