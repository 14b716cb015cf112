package config

import "time"

// Defaults for fields left empty. Each is also stated on its field in
// types.go and in docs/config.md.
const (
	DefaultListen         = "127.0.0.1:8080"
	DefaultMaxHeaderBytes = 32 << 10
	DefaultSQLiteDSN      = "mcpgate.db"
	DefaultGitHubAPIURL   = "https://api.github.com"
)

// ApplyDefaults fills every empty field that has a default. Parse calls it
// after resolving secrets; a Config built in Go (the demo, tests) should
// call it before Validate. Zero durations and sizes count as unset.
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
	setDefault(&c.Logging.Format, "json")
	setDefault(&c.Logging.Level, "info")
}

func (s *Server) applyDefaults() {
	setDefault(&s.ReadHeaderTimeout, Duration(10*time.Second))
	setDefault(&s.ReadTimeout, Duration(30*time.Second))
	setDefault(&s.IdleTimeout, Duration(120*time.Second))
	setDefault(&s.ShutdownTimeout, Duration(10*time.Second))
	setDefault(&s.MaxHeaderBytes, DefaultMaxHeaderBytes)
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
	}
}

func (u *Upstream) applyDefaults() {
	setDefault(&u.Credentials.Type, "none")
	setDefault(&u.Credentials.Header, "Authorization")
	if u.ExternalAuth != nil {
		setDefault(&u.ExternalAuth.ScopeClaim, "scope")
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
