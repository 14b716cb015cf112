package config

import (
	"testing"
	"time"
)

func dur(d time.Duration) *Duration {
	v := Duration(d)
	return &v
}

// TestSigningLimits checks each bound of the signing section at its edge.
func TestSigningLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Signing)
		bad  string // the path with a problem; "" when valid
	}{
		{"rotation off", func(s *Signing) { s.RotateEvery = dur(0) }, ""},
		{"rotation unset", func(s *Signing) { s.RotateEvery = nil }, ""},
		{"rotation 1h", func(s *Signing) { s.RotateEvery = dur(time.Hour) }, ""},
		{"rotation 59m", func(s *Signing) { s.RotateEvery = dur(59 * time.Minute) }, "signing.rotate_every"},
		{"rotation negative", func(s *Signing) { s.RotateEvery = dur(-time.Hour) }, "signing.rotate_every"},
		{"access 1m", func(s *Signing) { s.AccessTokenTTL = Duration(time.Minute) }, ""},
		{"access 59s", func(s *Signing) { s.AccessTokenTTL = Duration(59 * time.Second) }, "signing.access_token_ttl"},
		{"access 24h", func(s *Signing) { s.AccessTokenTTL = Duration(24 * time.Hour) }, ""},
		{"access over 24h", func(s *Signing) { s.AccessTokenTTL = Duration(24*time.Hour + time.Second) }, "signing.access_token_ttl"},
		{"refresh equals access", func(s *Signing) { s.RefreshTokenTTL, s.RefreshIdleTimeout = s.AccessTokenTTL, s.AccessTokenTTL }, ""},
		{"refresh below access", func(s *Signing) { s.RefreshTokenTTL, s.RefreshIdleTimeout = s.AccessTokenTTL-1, Duration(time.Minute) }, "signing.refresh_token_ttl"},
		{"refresh zero", func(s *Signing) { s.RefreshTokenTTL = 0 }, "signing.refresh_token_ttl"},
		{"idle equals refresh", func(s *Signing) { s.RefreshIdleTimeout = s.RefreshTokenTTL }, ""},
		{"idle above refresh", func(s *Signing) { s.RefreshIdleTimeout = s.RefreshTokenTTL + 1 }, "signing.refresh_idle_timeout"},
		{"idle zero", func(s *Signing) { s.RefreshIdleTimeout = 0 }, "signing.refresh_idle_timeout"},
		{"grace 0s", func(s *Signing) { s.RefreshReuseGrace = dur(0) }, ""},
		{"grace 2m", func(s *Signing) { s.RefreshReuseGrace = dur(2 * time.Minute) }, ""},
		{"grace over 2m", func(s *Signing) { s.RefreshReuseGrace = dur(2*time.Minute + 1) }, "signing.refresh_reuse_grace"},
		{"grace negative", func(s *Signing) { s.RefreshReuseGrace = dur(-1) }, "signing.refresh_reuse_grace"},
		{"EdDSA", func(s *Signing) { s.Algorithm = "EdDSA" }, ""},
		{"RS256", func(s *Signing) { s.Algorithm = "RS256" }, ""},
		{"none", func(s *Signing) { s.Algorithm = "none" }, "signing.algorithm"},
	} {
		c := goConfig()
		tc.set(&c.Signing)
		ps := validateProblems(t, c)
		if tc.bad == "" && len(ps) > 0 || tc.bad != "" && (len(ps) != 1 || ps[0].Path != tc.bad) {
			t.Errorf("%s: Validate = %v; want a problem only at %q", tc.name, ps, tc.bad)
		}
	}
}

// TestSessionAndLoginLimits checks the bounds of sessions and login.
func TestSessionAndLoginLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
		bad  string
	}{
		{"absolute equals idle", func(c *Config) { c.Sessions.AbsoluteTimeout = c.Sessions.IdleTimeout }, ""},
		{"absolute below idle", func(c *Config) { c.Sessions.AbsoluteTimeout = c.Sessions.IdleTimeout - 1 }, "sessions.absolute_timeout"},
		{"one session", func(c *Config) { c.Sessions.MaxPerUser = 1 }, ""},
		{"100 sessions", func(c *Config) { c.Sessions.MaxPerUser = 100 }, ""},
		{"no sessions", func(c *Config) { c.Sessions.MaxPerUser = 0 }, "sessions.max_per_user"},
		{"idle zero", func(c *Config) { c.Sessions.IdleTimeout = 0 }, "sessions.idle_timeout"},
		{"one failure", func(c *Config) { c.Login.MaxFailures = 1 }, ""},
		{"101 failures", func(c *Config) { c.Login.MaxFailures = 101 }, "login.max_failures"},
		{"window zero", func(c *Config) { c.Login.Window = 0 }, "login.window"},
		{"lockout zero", func(c *Config) { c.Login.Lockout = 0 }, "login.lockout"},
	} {
		c := goConfig()
		tc.set(c)
		ps := validateProblems(t, c)
		if tc.bad == "" && len(ps) > 0 || tc.bad != "" && (len(ps) != 1 || ps[0].Path != tc.bad) {
			t.Errorf("%s: Validate = %v; want a problem only at %q", tc.name, ps, tc.bad)
		}
	}
}
