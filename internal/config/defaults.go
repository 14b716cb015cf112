package config

import (
	"slices"
	"time"
)

// Defaults for fields left empty. Each is also stated on its field in
// types.go and in docs/config.md.
const (
	DefaultListen         = "127.0.0.1:8080"
	DefaultMaxHeaderBytes = 32 << 10
	DefaultSQLiteDSN      = "mcpgate.db"
	DefaultGitHubAPIURL   = "https://api.github.com"
	DefaultGitHubWebURL   = "https://github.com"

	DefaultSigningAlgorithm = "ES256"
	// ScopeOfflineAccess asks for refresh tokens (OpenID Connect Core 1.0
	// §11). It is always in the scope catalogue and is advertised in AS
	// metadata only (SPEC AS-9).
	ScopeOfflineAccess = "offline_access"
)

// Defaults of the proxy (SPEC PX-4, PX-11).
const (
	DefaultUpstreamTimeout   = 60 * time.Second
	DefaultMaxBodyBytes      = 4 << 20
	MaxMaxBodyBytes          = 64 << 20
	DefaultStdioIdleTimeout  = 10 * time.Minute
	DefaultStdioMaxProcesses = 32
	DefaultMaxStreamsPerUser = 16
	MaxMaxStreamsPerUser     = 10_000
)

// Default lifetimes and limits of the authorization server's sections.
const (
	DefaultRotateEvery        = 720 * time.Hour
	DefaultAccessTokenTTL     = 10 * time.Minute
	DefaultRefreshTokenTTL    = 720 * time.Hour
	DefaultRefreshIdleTimeout = 168 * time.Hour
	DefaultRefreshReuseGrace  = 10 * time.Second
	DefaultSessionIdle        = 8 * time.Hour
	DefaultSessionAbsolute    = 24 * time.Hour
	DefaultSessionsPerUser    = 5
	DefaultLoginMaxFailures   = 5
	DefaultLoginWindow        = 15 * time.Minute
	DefaultLoginLockout       = 15 * time.Minute
)

// defaultPrivateUseSchemes are the private-use redirect URI schemes public
// clients may use when registration.private_use_schemes is unset.
var defaultPrivateUseSchemes = []string{"cursor"}

// ApplyDefaults fills every empty field that has a default. Parse calls it
// after resolving secrets; a Config built in Go (the demo, tests) should
// call it before Validate. Zero durations and sizes count as unset, except
// in the pointer fields (signing.rotate_every, signing.refresh_reuse_grace
// and the registration switches), where zero or false is a real choice and
// only nil is unset.
func (c *Config) ApplyDefaults() {
	setDefault(&c.Listen, DefaultListen)
	c.Server.applyDefaults()
	c.Storage.applyDefaults()
	if c.Secrets.Active == "" && len(c.Secrets.Keys) == 1 {
		c.Secrets.Active = c.Secrets.Keys[0].ID
	}
	for i := range c.IdentityProviders {
		c.IdentityProviders[i].applyDefaults()
	}
	for i := range c.Upstreams {
		c.Upstreams[i].applyDefaults()
	}
	c.Signing.applyDefaults()
	for i := range c.Clients {
		c.Clients[i].applyDefaults()
	}
	c.Registration.applyDefaults()
	for i := range c.Scopes {
		setDefault(&c.Scopes[i].Description, c.Scopes[i].Name)
	}
	c.Sessions.applyDefaults()
	c.Login.applyDefaults()
	c.Redis.applyDefaults()
	c.RateLimits.applyDefaults()
	setDefault(&c.Logging.Format, "json")
	setDefault(&c.Logging.Level, "info")
}

func (s *Server) applyDefaults() {
	setDefault(&s.ReadHeaderTimeout, Duration(10*time.Second))
	setDefault(&s.ReadTimeout, Duration(30*time.Second))
	setDefault(&s.IdleTimeout, Duration(120*time.Second))
	setDefault(&s.ShutdownTimeout, Duration(10*time.Second))
	setDefault(&s.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&s.WriteTimeout, Duration(30*time.Second))
	setDefault(&s.MaxStreamsPerUser, DefaultMaxStreamsPerUser)
}

func (s *Storage) applyDefaults() {
	setDefault(&s.Driver, "sqlite")
	if s.Driver == "sqlite" && s.DSNFile == "" {
		setDefault(&s.DSN, DefaultSQLiteDSN)
	}
}

// applyDefaults sets only the defaults of the provider's own type, so that
// no field is filled in that the type would then refuse as unused.
func (p *IdentityProvider) applyDefaults() {
	switch p.Type {
	case "oidc":
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"openid", "profile", "email"}
		}
		setDefault(&p.GroupsClaim, "groups")
	case "github":
		setDefault(&p.APIURL, DefaultGitHubAPIURL)
		setDefault(&p.WebURL, gitHubWebURL(p.APIURL))
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"read:user", "user:email", "read:org"}
		}
	}
}

func (u *Upstream) applyDefaults() {
	setDefault(&u.Credentials.Type, "none")
	setDefault(&u.Credentials.Header, "Authorization")
	if u.ExternalAuth != nil {
		setDefault(&u.ExternalAuth.ScopeClaim, "scope")
	}
	setDefault(&u.Timeout, Duration(DefaultUpstreamTimeout))
	setDefault(&u.MaxBodyBytes, DefaultMaxBodyBytes)
	if len(u.Command) > 0 {
		setDefault(&u.IdleTimeout, Duration(DefaultStdioIdleTimeout))
		setDefault(&u.MaxProcesses, DefaultStdioMaxProcesses)
		setDefault(&u.MaxProcessesPerUser, max(1, u.MaxProcesses/4))
	}
}

func (s *Signing) applyDefaults() {
	setDefault(&s.Algorithm, DefaultSigningAlgorithm)
	setDefaultPtr(&s.RotateEvery, Duration(DefaultRotateEvery))
	setDefault(&s.AccessTokenTTL, Duration(DefaultAccessTokenTTL))
	setDefault(&s.RefreshTokenTTL, Duration(DefaultRefreshTokenTTL))
	setDefault(&s.RefreshIdleTimeout, Duration(DefaultRefreshIdleTimeout))
	setDefaultPtr(&s.RefreshReuseGrace, Duration(DefaultRefreshReuseGrace))
}

// applyDefaults derives the auth method from whether a secret is given,
// so that the default is never a combination Validate refuses.
func (c *Client) applyDefaults() {
	setDefault(&c.Name, c.ClientID)
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	if c.Public() {
		setDefault(&c.TokenEndpointAuthMethod, "none")
	} else {
		setDefault(&c.TokenEndpointAuthMethod, "client_secret_basic")
	}
}

// applyDefaults leaves an explicitly empty private_use_schemes alone: it
// allows no private-use scheme at all.
func (r *Registration) applyDefaults() {
	setDefaultPtr(&r.Dynamic, true)
	setDefaultPtr(&r.CIMD, true)
	setDefaultPtr(&r.ReverseDomainSchemes, true)
	if r.PrivateUseSchemes == nil {
		r.PrivateUseSchemes = slices.Clone(defaultPrivateUseSchemes)
	}
}

func (s *Sessions) applyDefaults() {
	setDefault(&s.IdleTimeout, Duration(DefaultSessionIdle))
	setDefault(&s.AbsoluteTimeout, Duration(DefaultSessionAbsolute))
	setDefault(&s.MaxPerUser, DefaultSessionsPerUser)
}

func (l *Login) applyDefaults() {
	setDefault(&l.MaxFailures, DefaultLoginMaxFailures)
	setDefault(&l.Window, Duration(DefaultLoginWindow))
	setDefault(&l.Lockout, Duration(DefaultLoginLockout))
}

// setDefaultPtr points *p at def when it is nil: fields where the zero
// value is a real choice (0s, false) and only nil means unset.
func setDefaultPtr[T any](p **T, def T) {
	if *p == nil {
		*p = &def
	}
}

// setDefault sets *v to def when it holds the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Default returns a Config holding every default, the starting point for a
// Config built in Go (the demo, tests); the caller still sets public_url
// and secrets.
func Default() *Config {
	c := &Config{}
	c.ApplyDefaults()
	return c
}
