package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/clientmeta"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/keys"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/oauth"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/tokens"
	"github.com/mcpgate/mcpgate/internal/usertoken"
)

// authServer holds the authorization server's parts that have a life of
// their own: the signing keys and the revocation cache poll the store.
type authServer struct {
	keys        *keys.Manager
	revocations *tokens.RevocationCache
	verifier    *tokens.Verifier
	provider    *oauth.Provider
	refresher   *tokens.Refresher
	// users keeps connector data and upstream tokens; the authorization
	// server's re-checks and the proxy's user_token credentials share it,
	// so one user's refreshes never overlap in this process.
	users *usertoken.Manager
}

// buildAuth assembles the authorization server (SPEC section 4) from the
// configuration and the already opened store.
func (s *Server) buildAuth(ctx context.Context) (*authServer, error) {
	cfg, now := s.cfg, s.opts.Now
	ring, err := seal.FromConfig(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	s.seal = ring
	accessTTL := time.Duration(cfg.Signing.AccessTokenTTL)
	record := func(ctx context.Context, e audit.Event) { s.record(ctx, e) }
	ko := keyOptions(cfg, s.store, ring, now, record)
	ko.RotateEvery, ko.Log = cfg.Signing.RotateInterval(), s.log.With("component", "keys")
	km, err := keys.New(ctx, ko)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	rc := tokens.NewRevocationCache(s.store, tokens.CacheOptions{Now: now, Log: s.log.With("component", "revocations")})
	if err := rc.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("revocation log: %w", err)
	}
	verifier := &tokens.Verifier{Issuer: cfg.PublicURL, Keys: km, Revoked: rc, Now: now}
	sessions, err := session.New(session.Options{
		Store: s.store, Secure: strings.HasPrefix(cfg.PublicURL, "https://"),
		IdleTimeout: time.Duration(cfg.Sessions.IdleTimeout), AbsoluteTimeout: time.Duration(cfg.Sessions.AbsoluteTimeout),
		MaxPerUser: cfg.Sessions.MaxPerUser, BindUserAgent: cfg.Sessions.BindUserAgent,
		BindIPPrefix: cfg.Sessions.BindIPPrefix, Now: now, Audit: record,
	})
	if err != nil {
		return nil, err
	}
	connectors, err := buildConnectors(cfg.IdentityProviders)
	if err != nil {
		return nil, err
	}
	connectors = append(connectors, s.opts.ExtraConnectors...)
	fetcher, err := cimdFetcher(cfg.Registration, now)
	if fetcher != nil {
		fetcher.Policy = &clientmeta.Policy{
			PrivateUseSchemes:         cfg.Registration.PrivateUseSchemes,
			AllowReverseDomainSchemes: cfg.Registration.ReverseDomainSchemesEnabled(),
		}
		fetcher.Resolver, fetcher.Dial = s.opts.CIMDResolver, s.opts.CIMDDial
	}
	if err != nil {
		return nil, err
	}
	refresher := &tokens.Refresher{
		Store: s.store, Revocations: s.store, Seal: ring, Cache: rc, Now: now,
		TTL: time.Duration(cfg.Signing.RefreshTokenTTL), IdleTimeout: time.Duration(cfg.Signing.RefreshIdleTimeout),
		Grace: graceOrNone(cfg.Signing.ReuseGrace()), AccessTTL: accessTTL,
	}
	users, err := usertoken.New(usertoken.Options{Store: s.store, Seal: ring, Connectors: connectors,
		Log: s.log.With("component", "usertoken"), Now: now})
	if err != nil {
		return nil, err
	}
	provider, err := oauth.New(oauth.Deps{
		Config: cfg, Store: s.store, Seal: ring, Keys: km,
		Minter:    &tokens.Minter{Issuer: cfg.PublicURL, Keys: km, TTL: accessTTL, Now: now},
		Verifier:  verifier,
		Refresher: refresher,
		Sessions:  sessions, Consents: &session.Consents{Store: s.store, Now: now, Audit: record},
		Connectors: connectors, Users: users,
		Throttle: login.NewThrottle(login.ThrottleOptions{
			MaxFailures: cfg.Login.MaxFailures, Window: time.Duration(cfg.Login.Window),
			Lockout: time.Duration(cfg.Login.Lockout), Now: now,
		}),
		Limits:  s.limits,
		Fetcher: fetcher, Audit: record, Metrics: s.metrics.OAuth(),
		Log: s.log.With("component", "oauth"), Now: now,
	})
	if err != nil {
		return nil, err
	}
	return &authServer{keys: km, revocations: rc, verifier: verifier, provider: provider, refresher: refresher, users: users}, nil
}

// keyOptions are the signing-key settings every key manager of a
// deployment shares, the server's and the CLI's: a rotation made by
// `mcpgate keys rotate` must publish as far ahead as the server's would.
// A new key is published long enough before it signs for every instance
// to reload it (two polls) and for a verifier caching the JWKS document
// to refetch it (its max-age), so no verifier anywhere meets a token
// signed by a key it has not seen (SPEC OP-4).
func keyOptions(cfg *config.Config, store keys.Store, ring *seal.Keyring, now func() time.Time, record func(context.Context, audit.Event)) keys.Options {
	return keys.Options{
		Store: store, Seal: ring, Algorithm: cfg.Signing.Algorithm,
		TokenTTL:     time.Duration(cfg.Signing.AccessTokenTTL),
		PublishAhead: oauth.JWKSMaxAge + 2*keys.DefaultPollEvery,
		Now:          now, Audit: record,
	}
}

// graceOrNone maps the configured grace window to the Refresher's
// convention, where zero means "default" and a negative value "none".
func graceOrNone(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// buildConnectors returns the login connectors in configuration order (the
// chooser page lists them so).
func buildConnectors(providers []config.IdentityProvider) ([]login.Connector, error) {
	byID, err := login.Build(providers)
	if err != nil {
		return nil, err
	}
	out := make([]login.Connector, 0, len(providers))
	for _, p := range providers {
		out = append(out, byID[p.ID])
	}
	return out, nil
}

// cimdFetcher builds the client ID metadata document fetcher, with the
// test-only trust option when configured (validation allows it only with a
// loopback public_url, SPEC AS-7).
func cimdFetcher(r config.Registration, now func() time.Time) (*clientmeta.Fetcher, error) {
	if !r.CIMDEnabled() {
		return nil, nil
	}
	f := &clientmeta.Fetcher{AllowedDomains: r.CIMDAllowedDomains, Now: now}
	if t := r.CIMDTestTrust; t != nil {
		pool, err := t.CertPool()
		if err != nil {
			return nil, fmt.Errorf("registration.cimd_test_trust.ca_file: %w", err)
		}
		f.TrustCA, f.TrustHost = pool, t.Host
	}
	return f, nil
}

// run keeps the authorization server's caches current until ctx ends: key
// rotation and the revocation log, both polled from the shared store so
// that every instance sees another's changes (SPEC OP-4, AS-5a).
func (a *authServer) run(ctx context.Context) {
	done := make(chan struct{}, 2)
	go func() { a.keys.Run(ctx); done <- struct{}{} }()
	go func() { a.revocations.Run(ctx); done <- struct{}{} }()
	<-done
	<-done
}
