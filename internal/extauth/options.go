package extauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultRefreshEvery = 15 * time.Minute
	DefaultMinRefetch   = 30 * time.Second
	DefaultSkew         = 60 * time.Second
	DefaultHTTPTimeout  = 10 * time.Second
	DefaultScopeClaim   = "scope"

	DefaultNegativeTTL                 = 30 * time.Second
	DefaultMaxConcurrentIntrospections = 16
)

// Options configures a Verifier for one external authorization server and
// one audience.
type Options struct {
	// Issuer is the AS's issuer identifier: the exact value of the tokens'
	// iss claim and the base of discovery. Required; https, or http on a
	// loopback host (tests, local demos).
	Issuer string
	// Audience must appear exactly (no canonicalisation: Okta audiences
	// such as "api://mcp" are not URLs) in the token's aud. Required.
	Audience string
	// ScopeClaim names the claim holding the granted scopes: "scope" (RFC
	// 9068, a space-separated string) or "scp" (Okta, a JSON array). Either
	// form is accepted in either claim. Default "scope".
	ScopeClaim string
	// TokenType, when set, is the JWS typ header every token must carry,
	// compared case-insensitively with the "application/" prefix optional
	// (RFC 7515 §4.1.9), e.g. "at+jwt". Default: typ is not checked, since
	// Okta sends "JWT" (SPEC PX-2).
	TokenType string
	// JWKSURL overrides the discovered jwks_uri. Optional.
	JWKSURL string
	// Introspection enables RFC 7662 introspection for opaque tokens, and
	// for every token when the AS publishes no JWKS. Optional.
	Introspection *Introspection
	// HTTPClient makes every request to the AS. Default: a client with a
	// DefaultHTTPTimeout timeout.
	HTTPClient *http.Client
	// RefreshEvery is the period of Run's JWKS refresh. Default 15m.
	RefreshEvery time.Duration
	// MinRefetch is the least time between two fetches triggered by
	// requests (an unknown kid, or no keys loaded yet). Default 30s.
	MinRefetch time.Duration
	// Skew is the clock skew allowed on exp, nbf and iat. Default 60s.
	Skew time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Log receives key refreshes and fetch failures. Default slog.Default().
	Log *slog.Logger
}

// Introspection configures RFC 7662 token introspection.
type Introspection struct {
	// URL is the introspection endpoint. Default: the metadata's
	// introspection_endpoint.
	URL string
	// ClientID and ClientSecret authenticate us to the endpoint with
	// client_secret_basic (RFC 7662 §2.1, RFC 6749 §2.3.1). Required.
	ClientID, ClientSecret string
	// ImpliedAudience accepts an active answer that carries no aud, taking
	// ClientID as the token's audience. Set it only for an AS that answers
	// active:true solely to a client in the token's audience (the zitadel
	// OP does). Off by default: an answer without aud is refused, because
	// nothing in it says the token was meant for this resource and any
	// token the AS issued for any other API would otherwise pass here.
	ImpliedAudience bool
	// NegativeTTL is how long a refused token (inactive, or active but
	// not for us) is refused from memory before the AS is asked again.
	// Without it every request with a made-up token costs one call to the
	// AS, and a flood of them spends the AS's rate limit, after which
	// every user gets 503. Caching the refusal is safe because a token the
	// AS calls inactive is unknown, expired or revoked, none of which
	// reverts: in practice a token is never inactive first and active
	// later. (The one exception RFC 7662 §2.2 allows, a token whose nbf is
	// still ahead, is one no AS we target issues; it would be refused for
	// up to NegativeTTL longer.) Default 30s.
	NegativeTTL time.Duration
	// MaxConcurrent caps the introspection calls in flight at once. A
	// caller beyond it waits for a slot until its context ends, then gets
	// ErrUnavailable: a flood of distinct tokens, which no cache absorbs,
	// then costs the AS at most this many calls at a time. Concurrent
	// requests with one token share one call. Default 16.
	MaxConcurrent int
}

// withDefaults returns o with zero values replaced by their defaults.
func (o Options) withDefaults() Options {
	if o.ScopeClaim == "" {
		o.ScopeClaim = DefaultScopeClaim
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if o.RefreshEvery == 0 {
		o.RefreshEvery = DefaultRefreshEvery
	}
	if o.MinRefetch == 0 {
		o.MinRefetch = DefaultMinRefetch
	}
	if o.Skew == 0 {
		o.Skew = DefaultSkew
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.TokenType = normalType(o.TokenType)
	if o.Introspection != nil {
		in := *o.Introspection // the caller's struct stays as it was
		if in.NegativeTTL == 0 {
			in.NegativeTTL = DefaultNegativeTTL
		}
		if in.MaxConcurrent == 0 {
			in.MaxConcurrent = DefaultMaxConcurrentIntrospections
		}
		o.Introspection = &in
	}
	return o
}

// validate reports every problem in o at once, each with its field name.
func (o Options) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("extauth: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if err := checkEndpoint(o.Issuer); err != nil {
		bad("Issuer", "%v", err)
	} else if u, _ := url.Parse(o.Issuer); u.RawQuery != "" || u.Fragment != "" {
		bad("Issuer", "must have no query or fragment (RFC 8414 §2)")
	}
	if o.Audience == "" {
		bad("Audience", "required")
	}
	if strings.ContainsAny(o.ScopeClaim, " \t") {
		bad("ScopeClaim", "%q is not a claim name", o.ScopeClaim)
	}
	if o.JWKSURL != "" {
		if err := checkEndpoint(o.JWKSURL); err != nil {
			bad("JWKSURL", "%v", err)
		}
	}
	if in := o.Introspection; in != nil {
		if in.URL != "" {
			if err := checkEndpoint(in.URL); err != nil {
				bad("Introspection.URL", "%v", err)
			}
		}
		if in.ClientID == "" || in.ClientSecret == "" {
			bad("Introspection", "ClientID and ClientSecret are required (client_secret_basic)")
		}
		if in.NegativeTTL < 0 {
			bad("Introspection.NegativeTTL", "must not be negative")
		}
		if in.MaxConcurrent < 0 {
			bad("Introspection.MaxConcurrent", "must not be negative")
		}
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"RefreshEvery", o.RefreshEvery}, {"MinRefetch", o.MinRefetch}, {"Skew", o.Skew}} {
		if d.v < 0 {
			bad(d.field, "must not be negative")
		}
	}
	return errors.Join(errs...)
}

// checkEndpoint accepts an absolute https URL, or http on a loopback host:
// keys and introspection answers fetched over plain http from the network
// could be replaced in transit, which would make every check here moot.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q: https required (http only on a loopback host)", raw)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// normalType lower-cases a typ value and drops the optional "application/"
// prefix (RFC 7515 §4.1.9).
func normalType(typ string) string {
	typ = strings.ToLower(typ)
	return strings.TrimPrefix(typ, "application/")
}
