package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/ascii"
	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/policy"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/seal"
)

// PRMPath is where protected resource metadata is served: at the root for
// the default resource and suffixed with each upstream's path (RFC 9728
// §3.1).
const PRMPath = "/.well-known/oauth-protected-resource"

// Upstream is one configured upstream with what the composition root built
// for it.
type Upstream struct {
	Config config.Upstream
	// Target is the URL requests go to. For a stdio upstream any URL
	// serves: Transport never dials it.
	Target *url.URL
	// Transport reaches the upstream: a tuned *http.Transport for a remote
	// server, the stdio bridge for a child process.
	Transport http.RoundTripper
	// Auth verifies bearer tokens for this resource.
	Auth Authenticator
	// AuthorizationServer is the issuer PRM names: mcpgate's own, or the
	// external AS in resource-server-only mode.
	AuthorizationServer string
	// Scopes are required on every request (the upstream's, plus
	// external_auth.scopes in resource-server-only mode).
	Scopes []string
}

// Options are the proxy's dependencies.
type Options struct {
	PublicURL      string   // canonical origin; its host is the only Host accepted
	AllowedOrigins []string // default: PublicURL's origin
	Upstreams      []Upstream
	// Seal binds MCP session IDs to their principal (SPEC PX-9).
	Seal *seal.Keyring
	// Assertions signs identity assertions; required when an upstream uses
	// credentials type identity_assertion.
	Assertions AssertionSigner
	// UserTokens supplies users' upstream IdP tokens (credentials type
	// user_token); nil answers those routes with 502.
	UserTokens UserTokenSource
	// Grants revokes a client's grant whose user token is gone for good
	// (credentials type user_token); nil revokes nothing, and the client
	// gets the same 401.
	Grants GrantRevoker
	// MaxStreamsPerUser caps one user's open GET streams over all routes
	// (server.max_streams_per_user); 0 means the default.
	MaxStreamsPerUser int
	// Limits applies the per-user and per-user-and-tool MCP rate limits
	// (SPEC RL-1); nil applies none.
	Limits *ratelimit.Guard
	Audit  func(context.Context, audit.Event)
	Log    *slog.Logger
	Now    func() time.Time
}

// Proxy serves every upstream route and its protected resource metadata.
type Proxy struct {
	opts    Options
	host    string // PublicURL's host[:port], lower case
	scheme  string // PublicURL's scheme, for X-Forwarded-Proto
	origins []string
	routes  []*route
	streams *streamLimiter
	// closing is cancelled by CloseStreams: every open GET stream ends.
	closing       context.Context
	closeStreamsF context.CancelFunc
}

// CloseStreams ends every open GET (server-to-client) stream. A graceful
// shutdown waits for in-flight requests, and a stream never finishes by
// itself: without this, every shutdown would run into its timeout. The
// client reconnects, to another instance or after the restart.
func (p *Proxy) CloseStreams() { p.closeStreamsF() }

// Route is one pattern to mount with its metrics name.
type Route struct {
	Pattern string
	Name    string
	Handler http.Handler
	// Stream marks an MCP route, whose answers may be streams that last
	// as long as the client keeps them open: the composition root must
	// not give it a fixed write deadline.
	Stream bool
}

// New compiles every upstream's policy and builds its forwarder.
func New(o Options) (*Proxy, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Audit == nil {
		o.Audit = func(context.Context, audit.Event) {}
	}
	pub, err := url.Parse(o.PublicURL)
	if err != nil || pub.Host == "" {
		return nil, fmt.Errorf("proxy: public URL %q is not an origin", o.PublicURL)
	}
	if o.Seal == nil {
		return nil, errors.New("proxy: a seal keyring is required (session binding)")
	}
	p := &Proxy{opts: o, host: ascii.Lower(pub.Host), scheme: pub.Scheme, origins: o.AllowedOrigins,
		streams: newStreamLimiter(o.MaxStreamsPerUser)}
	p.closing, p.closeStreamsF = context.WithCancel(context.Background())
	if len(p.origins) == 0 {
		p.origins = []string{pub.Scheme + "://" + p.host}
	}
	for _, u := range o.Upstreams {
		rt, err := p.newRoute(u)
		if err != nil {
			return nil, fmt.Errorf("proxy: upstream %q: %w", u.Config.Name, err)
		}
		p.routes = append(p.routes, rt)
	}
	return p, nil
}

func (p *Proxy) newRoute(u Upstream) (*route, error) {
	if u.Auth == nil || u.Transport == nil || u.Target == nil {
		return nil, errors.New("auth, transport and target are required")
	}
	pol, err := policy.Compile(u.Scopes, u.Config.Tools)
	if err != nil {
		return nil, err
	}
	creds, err := p.newCredentials(u)
	if err != nil {
		return nil, err
	}
	rt := &route{
		p: p, up: u.Config, auth: u.Auth, policy: pol, creds: creds,
		resource: p.opts.PublicURL + u.Config.Path,
		prmURL:   p.opts.PublicURL + PRMPath + u.Config.Path,
		as:       u.AuthorizationServer,
		target:   u.Target,
		sessions: newSessions(p.opts.Seal, u.Config.Name),
		maxBody:  u.Config.MaxBodyBytes,
	}
	if rt.maxBody <= 0 {
		rt.maxBody = config.DefaultMaxBodyBytes
	}
	rt.challengeScopes = pol.RequestScopes()
	rt.scopesSupported = supportedScopes(pol)
	rt.strip = rt.strippedHeaders()
	transport := u.Transport
	if creds.kind == "user_token" {
		transport = userTokenRetry{rt: rt, next: transport}
	}
	rt.forwarder = &httputil.ReverseProxy{
		Rewrite:   rt.rewrite,
		Transport: p.streams.wrap(transport),
		// SSE and bodies of unknown length are flushed as written (PX-4):
		// ReverseProxy does so for text/event-stream and chunked answers
		// whatever this says. 0 spares a JSON answer of known length a
		// separate header flush (a syscall and a timer per request).
		FlushInterval:  0,
		BufferPool:     copyBuffers,
		ModifyResponse: rt.modifyResponse,
		ErrorHandler:   rt.upstreamError,
		ErrorLog:       slog.NewLogLogger(p.opts.Log.Handler(), slog.LevelWarn),
	}
	return rt, nil
}

// supportedScopes lists what a client may need for the resource: the
// upstream's scopes and every rule's, without offline_access (advertised
// by the AS only).
func supportedScopes(pol policy.Route) []string {
	out := pol.RequestScopes()
	for _, r := range pol.Rules {
		for _, s := range r.Scopes {
			if s != config.ScopeOfflineAccess && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Routes returns the upstream routes and the PRM documents. The root PRM
// document describes the first upstream, the default resource (RFC 9728
// §3.1 allows one document per resource; clients that only try the root
// find the first).
func (p *Proxy) Routes() []Route {
	var out []Route
	mcp := p.mcpCORS()
	for i, rt := range p.routes {
		name := "mcp_" + rt.up.Name
		prm := prmCORS.Wrap(http.HandlerFunc(rt.servePRM))
		out = append(out,
			Route{Pattern: rt.up.Path, Name: name, Handler: mcp.Wrap(rt), Stream: true},
			Route{Pattern: "GET " + PRMPath + rt.up.Path, Name: "prm", Handler: prm},
			Route{Pattern: "OPTIONS " + PRMPath + rt.up.Path, Name: "prm", Handler: prm},
		)
		if i == 0 {
			out = append(out,
				Route{Pattern: "GET " + PRMPath, Name: "prm", Handler: prm},
				Route{Pattern: "OPTIONS " + PRMPath, Name: "prm", Handler: prm},
			)
		}
	}
	return out
}
