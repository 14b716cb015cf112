package config

import "time"

// Config is the whole configuration file. Every field says its default;
// docs/config.md is the operator-facing copy of these comments and must be
// kept in step with them.
type Config struct {
	// PublicURL is the origin clients reach the gateway at (scheme, host and
	// optional port; no path, query or fragment), in canonical form. It is
	// the OAuth issuer and the base of every protected-resource URI.
	// Required. It must be https unless its host is loopback (SPEC HD-3),
	// and an http PublicURL needs a loopback Listen unless TrustedProxies
	// is set.
	PublicURL string `yaml:"public_url"`
	// Listen is the address the HTTP server binds. Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// TLS serves HTTPS directly when both files are set. Default: off
	// (plain HTTP, for loopback or behind a TLS-terminating proxy). Parse
	// loads the pair and stores the paths absolute (relative ones are
	// relative to the config file's directory).
	TLS TLS `yaml:"tls"`
	// TrustedProxies lists the IPs or CIDRs whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. Default: none (headers ignored).
	// Required when Listen is a non-loopback plain-HTTP address. A prefix
	// wider than /8 (IPv4, IPv4-mapped IPv6 counted as IPv4) or /16 (IPv6)
	// is refused: the list names proxies, not the internet.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// AllowedOrigins lists the browser origins (scheme://host[:port]) that
	// may call the MCP routes; a request with any other Origin is refused
	// (DNS-rebinding defence, SPEC PX-10). Default: only PublicURL's origin.
	// "*" and other wildcards are refused, and so is http unless the host
	// is loopback; each is written in canonical form (lower case, port as a
	// plain number, no default port, no IPv6 zone), as browsers send it.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Server holds HTTP server limits.
	Server Server `yaml:"server"`
	// Storage selects the persistence backend.
	Storage Storage `yaml:"storage"`
	// Secrets holds the keys that seal data at rest and in cookies.
	Secrets Secrets `yaml:"secrets"`
	// IdentityProviders lists where users log in. Validated now; used from
	// the Authorization server issue on.
	IdentityProviders []IdentityProvider `yaml:"identity_providers"`
	// Upstreams lists the MCP servers mcpgate protects and proxies
	// (SPEC section 6).
	Upstreams []Upstream `yaml:"upstreams"`
	// Signing selects the access-token signing algorithm, key rotation and
	// the lifetimes of issued tokens (SPEC AS-5, AS-6).
	Signing Signing `yaml:"signing"`
	// Clients lists pre-registered OAuth clients (SPEC AS-7). Default: none.
	Clients []Client `yaml:"clients"`
	// Registration configures how other clients register: dynamic client
	// registration, client ID metadata documents and the redirect URI
	// schemes allowed for public clients (SPEC AS-2, AS-7).
	Registration Registration `yaml:"registration"`
	// Scopes is the scope catalogue (SPEC AS-9). Default: none declared,
	// when every scope the upstreams, tool rules and clients name is
	// implicitly in the catalogue with no restrictions; once any scope is
	// declared, every scope named anywhere must be. See ScopeCatalogue.
	Scopes []Scope `yaml:"scopes"`
	// Sessions configures browser sessions at the authorization server
	// (SPEC SE-1).
	Sessions Sessions `yaml:"sessions"`
	// Login configures the throttling of local logins (SPEC ID-4).
	Login Login `yaml:"login"`
	// Redis is an optional shared Redis (rate limits across instances).
	Redis Redis `yaml:"redis"`
	// RateLimits are the request rate limits (SPEC RL-1).
	RateLimits RateLimits `yaml:"rate_limits"`
	// Audit configures where security events are written.
	Audit Audit `yaml:"audit"`
	// Logging configures the operational log.
	Logging Logging `yaml:"logging"`
	// Metrics configures the Prometheus endpoint.
	Metrics Metrics `yaml:"metrics"`
}

// TLS names a certificate and key in PEM files. Both or neither.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether the server terminates TLS itself.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Server holds HTTP server timeouts and limits. There is deliberately no
// server-wide write timeout: it would cut long-lived SSE streams.
// WriteTimeout is applied per answer instead.
type Server struct {
	// ReadHeaderTimeout bounds how long a client may take to send headers
	// (slowloris defence). Default 10s.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included. Default 30s.
	ReadTimeout Duration `yaml:"read_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds graceful shutdown (draining requests and
	// streams) after SIGINT/SIGTERM. Default 10s, at most 5m.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// MaxHeaderBytes caps request header size. Default 32768.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// WriteTimeout bounds writing an answer to a client that does not
	// read it: the whole answer of the gateway's own endpoints, and each
	// write of an MCP route's answer once the upstream has answered (a
	// stream lasts as long as it keeps moving). Default 30s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// MaxStreamsPerUser caps one user's open GET (SSE) streams on the MCP
	// routes, all upstreams together; one more is refused with 429.
	// Default 16, at most 10000.
	MaxStreamsPerUser int `yaml:"max_streams_per_user"`
}

// Storage selects the backend.
type Storage struct {
	// Driver is memory, sqlite or postgres. Default sqlite.
	Driver string `yaml:"driver"`
	// DSN is a file path for sqlite (default "mcpgate.db"; Parse makes a
	// relative one absolute against the config file's directory) or a
	// connection URL or keyword/value string for postgres (required). It
	// may carry a password, so it accepts ${NAME} and has a dsn_file twin,
	// and problems never quote it. Unused for memory.
	DSN     string `yaml:"dsn"`
	DSNFile string `yaml:"dsn_file"`
}

// Secrets holds the sealing keys (AES-256-GCM, SPEC SE-2). Each key value
// is 32 random bytes, base64 (standard or URL alphabet) encoded.
type Secrets struct {
	// Keys lists every key that may decrypt; at least one is required.
	Keys []SealKey `yaml:"keys"`
	// Active is the ID of the key that encrypts. Default: the only key when
	// there is exactly one; required otherwise.
	Active string `yaml:"active"`
}

// SealKey is one sealing key. Exactly one of Value and ValueFile.
type SealKey struct {
	ID        string `yaml:"id"`
	Value     string `yaml:"value"`
	ValueFile string `yaml:"value_file"`
}

// IdentityProvider is one login source.
type IdentityProvider struct {
	// ID names the provider in subjects ("<id>:<subject>") and policy rules;
	// lower-case letters, digits and '-', unique. Required.
	ID string `yaml:"id"`
	// Type is oidc, github or local. Required.
	Type string `yaml:"type"`
	// Issuer is the OIDC issuer URL (oidc only, required there).
	Issuer string `yaml:"issuer"`
	// ClientID and ClientSecret (or ClientSecretFile) are mcpgate's
	// credentials at the provider (oidc, github; required there).
	ClientID         string `yaml:"client_id"`
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// Scopes requested upstream. Default for oidc: [openid, profile, email].
	Scopes []string `yaml:"scopes"`
	// GroupsClaim is the ID-token/userinfo claim holding groups (oidc).
	// Default "groups".
	GroupsClaim string `yaml:"groups_claim"`
	// AuthParams are extra query parameters of the authorization request
	// (oidc only), such as Google's access_type: offline. Parameters
	// mcpgate sets itself (ReservedAuthParams) are refused.
	AuthParams map[string]string `yaml:"auth_params"`
	// AllowedOrgs and AllowedTeams ("org/team") restrict github logins.
	AllowedOrgs  []string `yaml:"allowed_orgs"`
	AllowedTeams []string `yaml:"allowed_teams"`
	// APIURL is GitHub's API base (GitHub Enterprise). Default
	// https://api.github.com.
	APIURL string `yaml:"api_url"`
	// WebURL is the GitHub base serving /login/oauth/authorize and
	// /login/oauth/access_token (github only). Default https://github.com
	// when APIURL is the default, and APIURL without its "/api/v3" suffix
	// for GitHub Enterprise Server; required otherwise.
	WebURL string `yaml:"web_url"`
	// Users are the accounts of a local provider (local only, required there).
	Users []LocalUser `yaml:"users"`
}

// LocalUser is an account of the local provider. Passwords are only ever
// given as argon2id or bcrypt hashes (SPEC HD-3).
type LocalUser struct {
	Username     string   `yaml:"username"`
	PasswordHash string   `yaml:"password_hash"`
	Email        string   `yaml:"email"`
	Groups       []string `yaml:"groups"`
}

// Upstream is one protected MCP server. Exactly one of URL and Command.
type Upstream struct {
	// Name identifies the upstream in logs, metrics and audit. Required,
	// unique.
	Name string `yaml:"name"`
	// Path is where it is served; its resource URI is PublicURL+Path.
	// Required, starts with /, unique, not nested under another upstream's
	// path nor under the gateway's own routes (docs/config.md).
	Path string `yaml:"path"`
	// URL of a remote Streamable HTTP server (http or https; https unless
	// the host is loopback when Credentials.Type is not none).
	URL string `yaml:"url"`
	// Command launches a local stdio server (argv, no shell).
	Command []string `yaml:"command"`
	// Env is the stdio child's environment besides PATH and HOME; values
	// accept ${NAME}.
	Env map[string]string `yaml:"env"`
	// Credentials says what mcpgate sends upstream. Default type none.
	Credentials Credentials `yaml:"credentials"`
	// Scopes are required for any request to this upstream.
	Scopes []string `yaml:"scopes"`
	// Tools are per-tool rules; the first match wins.
	Tools []ToolRule `yaml:"tools"`
	// ExternalAuth makes this route resource-server-only: tokens come from
	// that AS instead of mcpgate.
	ExternalAuth *ExternalAuth `yaml:"external_auth"`
	// IdentityHeaders names headers that carry the caller's identity to a
	// trusted upstream. Default: none sent.
	IdentityHeaders IdentityHeaders `yaml:"identity_headers"`
	// Timeout bounds the wait for the upstream's response headers (504
	// after it); an open stream is not cut. Default 60s.
	Timeout Duration `yaml:"timeout"`
	// MaxBodyBytes caps a request body sent to the upstream (413 above it).
	// Default 4 MiB, at most 64 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// IdleTimeout ends a stdio child with no request and no open stream
	// for this long. Only with Command; default 10m.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxProcesses caps the live stdio children (one per MCP session).
	// Only with Command; default 32.
	MaxProcesses int `yaml:"max_processes"`
	// MaxProcessesPerUser caps one user's live stdio children. Only with
	// Command; default max(1, MaxProcesses/4).
	MaxProcessesPerUser int `yaml:"max_processes_per_user"`
}

// IdentityHeaders are header names for the caller's identity (SPEC PX-8).
// Copies a client sends are always deleted first.
type IdentityHeaders struct {
	// Subject carries "<provider>:<sub>".
	Subject string `yaml:"subject"`
	// Email carries the caller's email, only when the provider verified it.
	Email string `yaml:"email"`
	// Groups carries the caller's groups, comma-separated.
	Groups string `yaml:"groups"`
}

// Credentials is what the gateway presents to an upstream.
type Credentials struct {
	// Type is none, static, user_token or identity_assertion. Default none.
	Type string `yaml:"type"`
	// Header carries a static credential. Default "Authorization".
	Header string `yaml:"header"`
	// Value (or ValueFile) is the static credential (static only).
	Value     string `yaml:"value"`
	ValueFile string `yaml:"value_file"`
	// Provider names the identity provider whose token is sent (user_token).
	Provider string `yaml:"provider"`
}

// ToolRule is a per-tool policy rule.
type ToolRule struct {
	// Match is a name glob (path.Match syntax). Required.
	Match     string   `yaml:"match"`
	Scopes    []string `yaml:"scopes"`
	Groups    []string `yaml:"groups"`
	Users     []string `yaml:"users"`
	Providers []string `yaml:"providers"`
	Deny      bool     `yaml:"deny"`
}

// ExternalAuth describes an external authorization server.
type ExternalAuth struct {
	// Issuer of the external AS (https, or http on a loopback host).
	// Required.
	Issuer string `yaml:"issuer"`
	// Audience the tokens must carry. Required.
	Audience string `yaml:"audience"`
	// Scopes required on every request.
	Scopes []string `yaml:"scopes"`
	// ScopeClaim is "scp" (array, as Okta sends) or "scope" (string).
	// Default "scope".
	ScopeClaim string `yaml:"scope_claim"`
	// TokenType, when set, is the JWS typ header tokens must carry
	// (at+jwt). Default: not required (Okta sends JWT).
	TokenType string `yaml:"token_type"`
	// JWKSURL overrides the jwks_uri from the issuer's metadata.
	JWKSURL string `yaml:"jwks_url"`
	// Introspection checks opaque tokens with RFC 7662. Default: off.
	Introspection *Introspection `yaml:"introspection"`
}

// Introspection is an RFC 7662 endpoint and the credentials mcpgate
// authenticates to it with (client_secret_basic).
type Introspection struct {
	// URL of the endpoint; default the introspection_endpoint of the
	// issuer's metadata.
	URL              string `yaml:"url"`
	ClientID         string `yaml:"client_id"`
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// ImpliedAudience accepts an active answer without aud, taking
	// ClientID as the audience (which must then equal Audience). Only for
	// an AS that answers active solely to a client in the token's
	// audience. Default false: such answers are refused.
	ImpliedAudience bool `yaml:"implied_audience"`
}

// Audit configures audit sinks; several may be on at once.
type Audit struct {
	// File appends JSON lines to this path. Default: off.
	File string `yaml:"file"`
	// Stdout writes JSON lines to standard output. Default false.
	Stdout bool `yaml:"stdout"`
}

// Logging configures the operational log (log/slog).
type Logging struct {
	// Format is json or text. Default json.
	Format string `yaml:"format"`
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
}

// Metrics configures Prometheus metrics.
type Metrics struct {
	// Listen serves /metrics on a separate address; empty serves it on the
	// main listener. /metrics is unauthenticated: production should use a
	// loopback address. It must not bind the port of Config.Listen.
	// Default empty.
	Listen string `yaml:"listen"`
}

// Duration is a time.Duration written as a Go duration string ("10s").
type Duration time.Duration
