package config

import (
	"fmt"
	"regexp"
	"time"
)

// Validate checks c as it is and returns Problems naming every problem with
// its field path, or nil. It does not apply defaults: a Config built in Go
// should go through ApplyDefaults first. Secret files are not read here; a
// *_file field counts as giving its secret, whose contents Parse checks
// after reading it.
func (c *Config) Validate() error {
	var ps Problems
	c.checkPublicURL(&ps)
	c.checkListen(&ps)
	c.TLS.check(&ps)
	checkTrustedProxies(&ps, c.TrustedProxies)
	checkAllowedOrigins(&ps, c.AllowedOrigins)
	c.Server.check(&ps)
	c.Storage.check(&ps)
	c.Secrets.check(&ps)
	c.checkIdentityProviders(&ps)
	c.checkUpstreams(&ps)
	c.Signing.check(&ps)
	c.checkClients(&ps)
	c.checkRegistration(&ps)
	c.checkScopeCatalogue(&ps)
	c.Sessions.check(&ps)
	c.Login.check(&ps)
	c.Redis.check(&ps)
	c.RateLimits.check(&ps)
	c.Logging.check(&ps)
	c.checkMetrics(&ps)
	c.checkTwins(&ps)
	return ps.err()
}

// checkPublicURL: public_url is the OAuth issuer and the base of every
// resource URI, compared byte for byte by clients (RFC 8414 §3.3, RFC 8707
// §2), so it must be a canonical origin. SPEC HD-3: it must be https unless
// its host is loopback, with no exception for TLS terminated in front (the
// URL clients see is then still https).
func (c *Config) checkPublicURL(ps *Problems) {
	if c.PublicURL == "" {
		ps.add("public_url", "required (the https origin clients reach the gateway at, such as https://mcp.example.com)")
		return
	}
	if msg := originProblem(c.PublicURL); msg != "" {
		ps.add("public_url", msg)
	}
}

func (t TLS) check(ps *Problems) {
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		ps.add("tls.key_file", "required when tls.cert_file is set")
	case t.KeyFile != "" && t.CertFile == "":
		ps.add("tls.cert_file", "required when tls.key_file is set")
	}
}

// checkAllowedOrigins: the Origin allow-list is the DNS-rebinding defence
// of the MCP routes (SPEC PX-10); a wildcard would disable it (SPEC HD-3).
func checkAllowedOrigins(ps *Problems, origins []string) {
	for i, o := range origins {
		if msg := originProblem(o); msg != "" {
			ps.add(index("allowed_origins", i), msg)
		}
	}
}

// maxShutdownTimeout bounds server.shutdown_timeout. Long-lived SSE streams
// never finish on their own, so the drain usually runs to its limit: a
// longer one only delays every restart and deploy, and outlives the
// default stop timeouts of systemd (90s) and Kubernetes (30s), which kill
// the process first anyway.
const maxShutdownTimeout = Duration(5 * time.Minute)

func (s Server) check(ps *Problems) {
	for _, d := range []struct {
		key string
		v   Duration
	}{
		{"read_header_timeout", s.ReadHeaderTimeout},
		{"read_timeout", s.ReadTimeout},
		{"idle_timeout", s.IdleTimeout},
		{"shutdown_timeout", s.ShutdownTimeout},
		{"write_timeout", s.WriteTimeout},
	} {
		if d.v <= 0 {
			ps.add(field("server", d.key), "must be greater than 0")
		}
	}
	if s.ShutdownTimeout > maxShutdownTimeout {
		ps.add("server.shutdown_timeout", fmt.Sprintf("must be at most %s: a drain longer than that is a misconfiguration "+
			"(open streams hold the drain to its limit, delaying every restart, and service managers stop waiting sooner by default)",
			time.Duration(maxShutdownTimeout)))
	}
	if s.MaxHeaderBytes < 1024 || s.MaxHeaderBytes > 1<<20 {
		ps.add("server.max_header_bytes", "must be between 1024 and 1048576")
	}
	if s.MaxStreamsPerUser < 1 || s.MaxStreamsPerUser > MaxMaxStreamsPerUser {
		ps.add("server.max_streams_per_user", fmt.Sprintf("must be between 1 and %d", MaxMaxStreamsPerUser))
	}
}

func (s Storage) check(ps *Problems) {
	switch s.Driver {
	case "memory":
		if s.DSN != "" || s.DSNFile != "" {
			ps.add("storage.dsn", "not used by driver memory (which keeps nothing across restarts)")
		}
	case "sqlite":
		switch {
		case s.DSN == "" && s.DSNFile == "":
			ps.add("storage.dsn", "required for driver sqlite (a database file path)")
		case looksLikePostgresDSN(s.DSN):
			// Caught here, not by the SQLite open, whose error would
			// quote the DSN and with it the password.
			ps.add("storage.dsn", "looks like a PostgreSQL DSN, not a SQLite file path; set storage.driver: postgres")
		}
	case "postgres":
		s.checkPostgres(ps)
	case "":
		ps.add("storage.driver", "required (memory, sqlite or postgres)")
	default:
		ps.add("storage.driver", fmt.Sprintf("unknown driver %q (want memory, sqlite or postgres)", s.Driver))
	}
}

// checkPostgres never quotes the DSN: it usually holds a password.
func (s Storage) checkPostgres(ps *Problems) {
	switch {
	case s.DSN == "" && s.DSNFile == "":
		ps.add("storage.dsn", "required for driver postgres (postgres://user@host/db or host=... dbname=...)")
	case ambiguousUserinfo(s.DSN):
		ps.add("storage.dsn", "the URL's user and password part is ambiguous (a raw '@', '#', '/' or '?' in it); "+
			"percent-encode them in the password (@ as %40, # as %23, / as %2F, ? as %3F)")
	case s.DSN != "" && !validPostgresDSN(s.DSN):
		ps.add("storage.dsn", "not a postgres URL (postgres://user@host/db) or keyword/value string (host=... dbname=...)")
	}
}

func (l Logging) check(ps *Problems) {
	switch l.Format {
	case "json", "text":
	default:
		ps.add("logging.format", fmt.Sprintf("unknown format %q (want json or text)", l.Format))
	}
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		ps.add("logging.level", fmt.Sprintf("unknown level %q (want debug, info, warn or error)", l.Level))
	}
}

// scopeTokenRE is RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
var scopeTokenRE = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)

// checkScopes refuses scope names a token's space-separated scope string
// could not carry.
func checkScopes(ps *Problems, path string, scopes []string) {
	for i, s := range scopes {
		if !scopeTokenRE.MatchString(s) {
			ps.add(index(path, i), fmt.Sprintf("invalid scope %q (RFC 6749 §3.3: no spaces, quotes or backslashes)", s))
		}
	}
}
