package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
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

// checkListen: SPEC HD-3 refuses a plain-HTTP listener on a non-loopback
// address unless trusted proxies are set, because then either tokens cross
// the network in clear, or a TLS-terminating proxy sits in front whose
// X-Forwarded-* headers must be trusted by address, not by anyone.
func (c *Config) checkListen(ps *Problems) {
	if msg := hostPortProblem(c.Listen); msg != "" {
		ps.add("listen", msg)
		return
	}
	if !c.TLS.Enabled() && len(c.TrustedProxies) == 0 && !listensOnLoopback(c.Listen) {
		ps.add("listen", "plain HTTP on a non-loopback address: terminate TLS here (tls.cert_file and tls.key_file) "+
			"or, behind a TLS-terminating proxy, set trusted_proxies to its addresses")
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

// checkTrustedProxies: forwarded headers are believed only from these
// addresses (SPEC HD-1, HD-3), so a prefix that covers every address would
// let any client spoof its IP and scheme.
func checkTrustedProxies(ps *Problems, proxies []string) {
	for i, s := range proxies {
		if msg := proxyProblem(s); msg != "" {
			ps.add(index("trusted_proxies", i), msg)
		}
	}
}

func proxyProblem(s string) string {
	if !strings.Contains(s, "/") {
		if _, err := netip.ParseAddr(s); err != nil {
			return fmt.Sprintf("invalid IP address %q", s)
		}
		return ""
	}
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		return fmt.Sprintf("invalid CIDR %q", s)
	case p.Bits() == 0:
		return fmt.Sprintf("%q trusts every address, so anyone could forge forwarded headers; list the proxies", s)
	case p.Masked() != p:
		return fmt.Sprintf("%q has host bits set; did you mean %q?", s, p.Masked().String())
	}
	return ""
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

func (s Server) check(ps *Problems) {
	for _, d := range []struct {
		key string
		v   Duration
	}{
		{"read_header_timeout", s.ReadHeaderTimeout},
		{"read_timeout", s.ReadTimeout},
		{"idle_timeout", s.IdleTimeout},
		{"shutdown_timeout", s.ShutdownTimeout},
	} {
		if d.v <= 0 {
			ps.add(field("server", d.key), "must be greater than 0")
		}
	}
	if s.MaxHeaderBytes < 1024 || s.MaxHeaderBytes > 1<<20 {
		ps.add("server.max_header_bytes", "must be between 1024 and 1048576")
	}
}

func (s Storage) check(ps *Problems) {
	switch s.Driver {
	case "memory":
		if s.DSN != "" || s.DSNFile != "" {
			ps.add("storage.dsn", "not used by driver memory (which keeps nothing across restarts)")
		}
	case "sqlite":
		if s.DSN == "" && s.DSNFile == "" {
			ps.add("storage.dsn", "required for driver sqlite (a database file path)")
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

func (c *Config) checkMetrics(ps *Problems) {
	if c.Metrics.Listen == "" {
		return
	}
	if msg := hostPortProblem(c.Metrics.Listen); msg != "" {
		ps.add("metrics.listen", msg)
	} else if c.Metrics.Listen == c.Listen {
		ps.add("metrics.listen", "same address as listen; leave it empty to serve /metrics on the main listener")
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
