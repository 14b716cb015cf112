package proxy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/policy"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// maxCachedTokens bounds the verification cache. A flood of distinct valid
// tokens can only make the gateway verify signatures again, never grow its
// memory without limit.
const maxCachedTokens = 1 << 16

// TokenAuth authenticates mcpgate's own access tokens for one protected
// resource (SPEC PX-2), caching each verified token by its SHA-256 until it
// expires (PX-3) so steady traffic pays no signature cost. A cache hit
// still consults the revocation cache, so a revoked family, token or user
// is refused from the next request on, and nothing is served while the
// revocation list is stale.
type TokenAuth struct {
	verifier *tokens.Verifier
	audience string
	expand   func([]string) []string
	now      func() time.Time

	mu    sync.RWMutex
	cache map[[sha256.Size]byte]*cachedToken
}

type cachedToken struct {
	principal Principal
	claims    tokens.Claims
}

// NewTokenAuth returns the authenticator of the resource audience. expand
// applies the scope hierarchy (nil: none); now defaults to time.Now.
func NewTokenAuth(v *tokens.Verifier, audience string, expand func([]string) []string, now func() time.Time) *TokenAuth {
	if now == nil {
		now = time.Now
	}
	return &TokenAuth{verifier: v, audience: audience, expand: expand, now: now,
		cache: make(map[[sha256.Size]byte]*cachedToken)}
}

// Authenticate implements Authenticator.
func (a *TokenAuth) Authenticate(ctx context.Context, token string) (Principal, error) {
	key := sha256.Sum256([]byte(token))
	a.mu.RLock()
	e := a.cache[key]
	a.mu.RUnlock()
	if e != nil && a.now().Before(e.principal.Expiry) {
		return a.recheck(key, e)
	}
	c, err := a.verifier.Verify(ctx, token, a.audience)
	switch {
	case errors.Is(err, tokens.ErrRevocationUnavailable):
		return Principal{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	case err != nil:
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	e = &cachedToken{principal: a.principal(c), claims: c}
	a.store(key, e)
	return e.principal, nil
}

// recheck applies the revocation cache to a cached token: revocation must
// take effect on the next request, not when the token expires (SPEC AS-5a).
func (a *TokenAuth) recheck(key [sha256.Size]byte, e *cachedToken) (Principal, error) {
	rc := a.verifier.Revoked
	if rc == nil || !rc.Ready() {
		return Principal{}, fmt.Errorf("%w: %w", ErrUnavailable, tokens.ErrRevocationUnavailable)
	}
	if rc.IsRevoked(e.claims) {
		a.mu.Lock()
		delete(a.cache, key)
		a.mu.Unlock()
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalidToken, tokens.ErrRevokedToken)
	}
	return e.principal, nil
}

func (a *TokenAuth) principal(c tokens.Claims) Principal {
	scopes := c.Scopes()
	if a.expand != nil {
		scopes = a.expand(scopes)
	}
	// The minter writes an email only when the provider verified it
	// (SPEC PX-7, PX-8); policy and identity headers check EmailVerified
	// again before trusting it.
	p := policy.Principal{Subject: c.Subject, Provider: c.IDP, Groups: c.Groups, Scopes: scopes,
		Email: c.Email, EmailVerified: c.EmailVerified}
	return Principal{
		Principal: p,
		ClientID:  c.ClientID, Family: c.SID, TokenID: c.JTI, Expiry: time.Unix(c.Expiry, 0),
	}
}

// store caches e. When the cache is full, expired entries go first; if
// that frees too little, everything goes (the next requests re-verify).
func (a *TokenAuth) store(key [sha256.Size]byte, e *cachedToken) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxCachedTokens {
		now := a.now()
		for k, v := range a.cache {
			if !now.Before(v.principal.Expiry) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCachedTokens*3/4 {
			clear(a.cache)
		}
	}
	a.cache[key] = e
}
