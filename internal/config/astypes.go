package config

import "time"

// The authorization server's sections of Config. Every field says its
// default, as in types.go; docs/config.md is the operator-facing copy.

// Signing configures access-token signing and the lifetimes of what the
// authorization server issues.
type Signing struct {
	// Algorithm signs access tokens (SPEC AS-5): ES256, EdDSA or RS256.
	// Default ES256.
	Algorithm string `yaml:"algorithm"`
	// RotateEvery is how often a new signing key takes over. Default 720h;
	// 0s disables automatic rotation; otherwise at least 1h. Nil means
	// unset (use RotateInterval).
	RotateEvery *Duration `yaml:"rotate_every"`
	// AccessTokenTTL is the lifetime of an access token. Default 10m; 1m
	// to 24h.
	AccessTokenTTL Duration `yaml:"access_token_ttl"`
	// RefreshTokenTTL is the absolute lifetime of a refresh-token family
	// (SPEC AS-6): no refresh extends it. Default 720h; at least
	// AccessTokenTTL.
	RefreshTokenTTL Duration `yaml:"refresh_token_ttl"`
	// RefreshIdleTimeout ends a family unused for this long. Default 168h;
	// at most RefreshTokenTTL.
	RefreshIdleTimeout Duration `yaml:"refresh_idle_timeout"`
	// RefreshReuseGrace is the window in which a reused refresh token (a
	// client retrying a lost response) gets the same successor instead of
	// revoking the family. Default 10s; 0s (no grace) to 2m. Nil means
	// unset (use ReuseGrace).
	RefreshReuseGrace *Duration `yaml:"refresh_reuse_grace"`
}

// RotateInterval is RotateEvery, or its default when unset; 0 means no
// automatic rotation.
func (s Signing) RotateInterval() time.Duration {
	return durationOr(s.RotateEvery, DefaultRotateEvery)
}

// ReuseGrace is RefreshReuseGrace, or its default when unset.
func (s Signing) ReuseGrace() time.Duration {
	return durationOr(s.RefreshReuseGrace, DefaultRefreshReuseGrace)
}

func durationOr(d *Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return time.Duration(*d)
}

// Client is a pre-registered OAuth client (SPEC AS-7).
type Client struct {
	// ClientID is 1 to 128 characters of [A-Za-z0-9._~:-], unique, and not
	// an http(s) URL (those are client ID metadata documents). Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret (or ClientSecretFile) makes the client confidential.
	// Default: none (a public client). At least 32 characters: it is
	// checked without a slow hash, so it must be high entropy.
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// Name is shown on the consent page. Default: ClientID.
	Name string `yaml:"name"`
	// RedirectURIs are matched exactly (the port of a loopback URI may
	// vary). At least one is required; each is https, http on a loopback
	// host (127.0.0.1, [::1], localhost), or, for public clients only, a
	// private-use scheme that Registration allows.
	RedirectURIs []string `yaml:"redirect_uris"`
	// GrantTypes are authorization_code (required) and refresh_token.
	// Default both.
	GrantTypes []string `yaml:"grant_types"`
	// TokenEndpointAuthMethod is none, client_secret_basic or
	// client_secret_post. Default client_secret_basic when a secret is
	// set, none otherwise; none goes with no secret and only none does.
	TokenEndpointAuthMethod string `yaml:"token_endpoint_auth_method"`
	// Scopes the client may receive. Default: any.
	Scopes []string `yaml:"scopes"`
	// FirstParty skips the consent page for this client (a trusted
	// first-party app). Default false.
	FirstParty bool `yaml:"first_party"`
}

// Public reports whether the client has no secret (RFC 6749 §2.1).
func (c Client) Public() bool { return c.ClientSecret == "" && c.ClientSecretFile == "" }

// Registration configures dynamic registration, client ID metadata
// documents and the redirect URI schemes of public clients.
type Registration struct {
	// Dynamic enables RFC 7591 dynamic client registration at
	// /oauth/register. Default true. Nil means unset (use DynamicEnabled).
	Dynamic *bool `yaml:"dynamic"`
	// CIMD accepts client ID metadata documents (https client_id URLs).
	// Default true. Nil means unset (use CIMDEnabled).
	CIMD *bool `yaml:"cimd"`
	// CIMDAllowedDomains are the host names (lower case, no port or scheme)
	// whose client ID metadata documents are accepted. Default: empty, any
	// public host.
	CIMDAllowedDomains []string `yaml:"cimd_allowed_domains"`
	// PrivateUseSchemes are the exact private-use redirect URI schemes
	// (RFC 8252 §7.1) allowed for public clients. Default [cursor] when
	// unset; an empty list allows none.
	PrivateUseSchemes []string `yaml:"private_use_schemes"`
	// ReverseDomainSchemes also allows, for public clients, any scheme in
	// reverse-domain form (com.example.app, RFC 8252 §7.1). Default true. Nil
	// means unset (use ReverseDomainSchemesEnabled).
	ReverseDomainSchemes *bool `yaml:"reverse_domain_schemes"`
	// CIMDTestTrust is for end-to-end tests only. Default: off.
	CIMDTestTrust *CIMDTestTrust `yaml:"cimd_test_trust"`
}

// DynamicEnabled reports whether dynamic client registration is on.
func (r Registration) DynamicEnabled() bool { return boolOr(r.Dynamic, true) }

// CIMDEnabled reports whether client ID metadata documents are accepted.
func (r Registration) CIMDEnabled() bool { return boolOr(r.CIMD, true) }

// ReverseDomainSchemesEnabled reports whether public clients may use any
// redirect URI scheme containing a dot.
func (r Registration) ReverseDomainSchemesEnabled() bool { return boolOr(r.ReverseDomainSchemes, true) }

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// CIMDTestTrust lets end-to-end tests serve client ID metadata documents
// from a loopback server with a private CA (SPEC AS-7). Validation refuses
// it unless public_url's host is loopback; every other SSRF rule still
// applies to the fetch.
type CIMDTestTrust struct {
	// CAFile is a PEM file of CA certificates trusted for CIMD fetches,
	// relative to the config file's directory. Required.
	CAFile string `yaml:"ca_file"`
	// Host is the one loopback IP:port admitted for CIMD fetches
	// ("127.0.0.1:9443"). Required.
	Host string `yaml:"host"`
}

// Scope is an entry of the scope catalogue (SPEC AS-9).
type Scope struct {
	// Name is an RFC 6749 §3.3 scope token of at most 128 characters,
	// unique. Required.
	Name string `yaml:"name"`
	// Description is shown on the consent page. Default: Name.
	Description string `yaml:"description"`
	// Implies lists narrower scopes that this one grants; each must be
	// declared, and the hierarchy has no cycles. Default: none.
	Implies []string `yaml:"implies"`
	// Groups, Users ("<provider>:<subject>") and Providers restrict who may
	// receive the scope: a user must match every non-empty list. Default:
	// no restriction.
	Groups    []string `yaml:"groups"`
	Users     []string `yaml:"users"`
	Providers []string `yaml:"providers"`
}

// Sessions configures browser sessions (SPEC SE-1).
type Sessions struct {
	// IdleTimeout ends a session unused for this long. Default 8h.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// AbsoluteTimeout ends a session this long after login, however
	// active. Default 24h; at least IdleTimeout.
	AbsoluteTimeout Duration `yaml:"absolute_timeout"`
	// MaxPerUser bounds concurrent browser sessions per user; the oldest
	// is evicted. Default 5; 1 to 100.
	MaxPerUser int `yaml:"max_per_user"`
	// BindUserAgent ends a session whose User-Agent changes. Default false.
	BindUserAgent bool `yaml:"bind_user_agent"`
	// BindIPPrefix ends a session presented from another network than it
	// logged in from (the client address's /24 for IPv4, /64 for IPv6,
	// through trusted_proxies). Default false: users who roam between
	// networks would have to log in again.
	BindIPPrefix bool `yaml:"bind_ip_prefix"`
}

// Login throttles local logins (SPEC ID-4).
type Login struct {
	// MaxFailures failed logins per username or per client IP within
	// Window lock that username or IP out. Default 5; 1 to 100.
	MaxFailures int `yaml:"max_failures"`
	// Window is the period failures are counted over. Default 15m.
	Window Duration `yaml:"window"`
	// Lockout is how long a lockout lasts. Default 15m.
	Lockout Duration `yaml:"lockout"`
}
