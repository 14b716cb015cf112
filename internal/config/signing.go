package config

import (
	"fmt"
	"slices"
	"time"
)

// signingAlgorithms are the JWS algorithms access tokens may be signed
// with (SPEC AS-5). None is symmetric: a resource server holding an HMAC
// key could mint tokens itself.
var signingAlgorithms = []string{"ES256", "EdDSA", "RS256"}

// Bounds on the signing section.
const (
	// minRotateEvery: every rotation publishes a new key ahead of use and
	// keeps the old one published for a token lifetime, so rotating more
	// often than hourly churns the JWKS faster than resource servers and
	// caches re-fetch it, and valid tokens start failing.
	minRotateEvery = Duration(time.Hour)
	// minAccessTokenTTL: below a minute, clock skew between the gateway
	// and other verifiers rejects tokens that were just issued.
	minAccessTokenTTL = Duration(time.Minute)
	// maxAccessTokenTTL: access tokens are bearer tokens, and revocation
	// reaches them only through the revocation cache (SPEC AS-5a); a day
	// bounds how long a stolen one works where that cache does not reach.
	maxAccessTokenTTL = Duration(24 * time.Hour)
	// maxRefreshReuseGrace: inside the grace window a replayed refresh
	// token gets a valid successor instead of revoking the family, so the
	// window is also a theft window (RFC 9700 §4.14.2); it need only cover
	// a client retrying a lost response.
	maxRefreshReuseGrace = Duration(2 * time.Minute)
)

func (s Signing) check(ps *Problems) {
	switch {
	case s.Algorithm == "":
		ps.add("signing.algorithm", "required (ES256, EdDSA or RS256)")
	case !slices.Contains(signingAlgorithms, s.Algorithm):
		ps.add("signing.algorithm", fmt.Sprintf("unknown algorithm %q (want ES256, EdDSA or RS256)", s.Algorithm))
	}
	if r := s.RotateEvery; r != nil && (*r < 0 || *r > 0 && *r < minRotateEvery) {
		ps.add("signing.rotate_every", "must be at least 1h, or 0s to disable automatic rotation: "+
			"each rotation publishes a new key, and faster rotation outruns the caches of those who verify tokens")
	}
	if s.AccessTokenTTL < minAccessTokenTTL || s.AccessTokenTTL > maxAccessTokenTTL {
		ps.add("signing.access_token_ttl", "must be between 1m and 24h (access tokens are short-lived bearer tokens)")
	}
	switch {
	case s.RefreshTokenTTL <= 0:
		ps.add("signing.refresh_token_ttl", "must be greater than 0")
	case s.RefreshTokenTTL < s.AccessTokenTTL:
		ps.add("signing.refresh_token_ttl", fmt.Sprintf("must be at least signing.access_token_ttl (%s)", s.AccessTokenTTL))
	}
	switch {
	case s.RefreshIdleTimeout <= 0:
		ps.add("signing.refresh_idle_timeout", "must be greater than 0")
	case s.RefreshTokenTTL > 0 && s.RefreshIdleTimeout > s.RefreshTokenTTL:
		ps.add("signing.refresh_idle_timeout", fmt.Sprintf("must be at most signing.refresh_token_ttl (%s)", s.RefreshTokenTTL))
	}
	if g := s.RefreshReuseGrace; g != nil && (*g < 0 || *g > maxRefreshReuseGrace) {
		ps.add("signing.refresh_reuse_grace", "must be between 0s and 2m: a reused refresh token inside the window "+
			"gets a valid successor, so the window should only cover a client retrying a lost response")
	}
}
