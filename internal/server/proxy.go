package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/extauth"
	"github.com/mcpgate/mcpgate/internal/policy"
	"github.com/mcpgate/mcpgate/internal/proxy"
	"github.com/mcpgate/mcpgate/internal/stdio"
)

// buildProxy assembles the MCP proxy (SPEC section 6): for each upstream
// its transport (a tuned HTTP transport, or a stdio bridge), its token
// authenticator (mcpgate's own verifier, or the external AS in
// resource-server-only mode) and its scopes. The closers stop stdio
// children on shutdown.
func (s *Server) buildProxy() (*proxy.Proxy, []io.Closer, error) {
	var ups []proxy.Upstream
	var closers []io.Closer
	fail := func(err error) (*proxy.Proxy, []io.Closer, error) {
		for _, c := range closers {
			c.Close()
		}
		return nil, nil, err
	}
	for _, u := range s.cfg.Upstreams {
		up, closer, err := s.proxyUpstream(u)
		if closer != nil {
			closers = append(closers, closer)
		}
		if err != nil {
			return fail(fmt.Errorf("upstream %q: %w", u.Name, err))
		}
		ups = append(ups, up)
	}
	p, err := proxy.New(proxy.Options{
		PublicURL: s.cfg.PublicURL, AllowedOrigins: s.cfg.AllowedOrigins, Upstreams: ups,
		Seal: s.seal, Assertions: s.auth.keys, Audit: s.record, MaxStreamsPerUser: s.cfg.Server.MaxStreamsPerUser,
		UserTokens: s.auth.users, Grants: s.auth.refresher,
		Limits: s.limits,
		Log:    s.log.With("component", "proxy"), Now: s.opts.Now,
	})
	if err != nil {
		return fail(err)
	}
	return p, closers, nil
}

func (s *Server) proxyUpstream(u config.Upstream) (proxy.Upstream, io.Closer, error) {
	up := proxy.Upstream{Config: u, AuthorizationServer: s.cfg.PublicURL, Scopes: slices.Clone(u.Scopes)}
	var closer io.Closer
	if len(u.Command) > 0 {
		rt, c, err := s.stdioTransport(u)
		if err != nil {
			return up, nil, err
		}
		up.Target, up.Transport, closer = &url.URL{Scheme: "http", Host: "stdio.invalid", Path: "/"}, rt, c
	} else {
		target, err := url.Parse(u.URL)
		if err != nil {
			return up, nil, err
		}
		up.Target, up.Transport = target, upstreamTransport(u)
	}
	if ea := u.ExternalAuth; ea != nil {
		auth, err := s.externalAuth(u.Name, *ea)
		if err != nil {
			return up, closer, err
		}
		up.Auth, up.AuthorizationServer = auth, ea.Issuer
		for _, sc := range ea.Scopes {
			if !slices.Contains(up.Scopes, sc) {
				up.Scopes = append(up.Scopes, sc)
			}
		}
		return up, closer, nil
	}
	up.Auth = proxy.NewTokenAuth(s.auth.verifier, s.cfg.PublicURL+u.Path, s.auth.provider.ExpandScopes, s.opts.Now)
	return up, closer, nil
}

// upstreamTransport is the HTTP transport of one remote upstream, sized
// for many concurrent MCP clients (SPEC PX-4): a large idle pool so steady
// traffic reuses connections, no proxy from the environment (an upstream
// is reached directly, never through whatever HTTPS_PROXY says), no
// compression (SSE must flow event by event and list responses be
// readable), and a bound on the wait for response headers (PX-12: 504).
func upstreamTransport(u config.Upstream) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Duration(u.Timeout),
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}

// stdioTransport is the stdio bridge of a command upstream (SPEC PX-11):
// it starts one child per MCP session, with only the configured env plus
// PATH and HOME. Close stops every child.
func (s *Server) stdioTransport(u config.Upstream) (http.RoundTripper, io.Closer, error) {
	b, err := stdio.New(stdio.Options{
		Name: u.Name, Command: u.Command, Env: u.Env, IdleTimeout: time.Duration(u.IdleTimeout),
		MaxProcesses: u.MaxProcesses, MaxPerOwner: u.MaxProcessesPerUser, MaxMessageBytes: int(u.MaxBodyBytes),
		// Each user gets at most MaxPerOwner children, so one user cannot
		// take every slot and lock the others out.
		Owner: func(r *http.Request) string { return proxy.PrincipalFrom(r.Context()).Subject },
		Log:   s.log.With("component", "stdio", "upstream", u.Name),
	})
	if err != nil {
		return nil, nil, err
	}
	return b, b, nil
}

// externalAuth builds the verifier of a resource-server-only route (SPEC
// section 1, shape 2). Its keys are fetched in the background
// (RunBackground), and lazily on first use when the AS was down at start.
func (s *Server) externalAuth(name string, ea config.ExternalAuth) (proxy.Authenticator, error) {
	o := extauth.Options{
		Issuer: ea.Issuer, Audience: ea.Audience, ScopeClaim: ea.ScopeClaim, TokenType: ea.TokenType,
		JWKSURL: ea.JWKSURL, Now: s.opts.Now, Log: s.log.With("component", "extauth", "upstream", name),
	}
	if in := ea.Introspection; in != nil {
		o.Introspection = &extauth.Introspection{
			URL: in.URL, ClientID: in.ClientID, ClientSecret: in.ClientSecret, ImpliedAudience: in.ImpliedAudience,
		}
	}
	v, err := extauth.New(o)
	if err != nil {
		return nil, err
	}
	s.external = append(s.external, v)
	return externalAuthenticator{v}, nil
}

// externalAuthenticator maps an external AS's claims to the proxy's
// principal. The subject is namespaced by the issuer's route, "ext:<sub>",
// so a rule naming a local user can never match an external token's
// subject of the same spelling.
type externalAuthenticator struct{ v *extauth.Verifier }

func (a externalAuthenticator) Authenticate(ctx context.Context, token string) (proxy.Principal, error) {
	c, err := a.v.Verify(ctx, token)
	switch {
	case errors.Is(err, extauth.ErrUnavailable):
		return proxy.Principal{}, fmt.Errorf("%w: %w", proxy.ErrUnavailable, err)
	case err != nil:
		return proxy.Principal{}, fmt.Errorf("%w: %w", proxy.ErrInvalidToken, err)
	}
	return proxy.Principal{
		Principal: policy.Principal{
			Subject: "ext:" + c.Subject, Provider: "ext", Email: c.Email, EmailVerified: c.EmailVerified,
			Groups: c.Groups, Scopes: c.Scopes,
		},
		ClientID: c.ClientID, TokenID: c.JTI, Expiry: c.Expiry,
	}, nil
}
