package extauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// introspect checks a token with the AS (RFC 7662), answering from the
// caches while an answer is fresh: a positive one for up to introCacheTTL,
// a refusal for NegativeTTL. Otherwise the caller joins the call in flight
// for the same token, or starts one (flight.go).
func (v *Verifier) introspect(ctx context.Context, token string) (Claims, error) {
	if v.opts.Introspection == nil {
		return Claims{}, invalid("not a JWT, and introspection is not configured")
	}
	// Keyed by a hash: the caches never hold a usable token.
	key := sha256.Sum256([]byte(token))
	if a, ok := v.cached(key); ok {
		return a.claims, a.err
	}
	f, a, ok := v.join(ctx, key, token)
	if ok {
		return a.claims, a.err
	}
	select {
	case <-f.done:
		return f.ans.claims.clone(), f.ans.err
	case <-ctx.Done():
		v.leave(key, f)
		return Claims{}, unavailable("introspection: %v", ctx.Err())
	}
}

// answer is the outcome of one introspection: claims, or an error.
type answer struct {
	claims Claims
	err    error
}

// cached is the answer the caches hold for key, if any.
func (v *Verifier) cached(key [32]byte) (answer, bool) {
	now := v.opts.Now()
	if c, ok := v.cache.get(key, now); ok {
		return answer{claims: c}, true
	}
	if r, ok := v.nope.get(key, now); ok {
		return answer{err: r.err}, true
	}
	return answer{}, false
}

// remember caches a: a positive answer until min(exp, introCacheTTL), a
// refusal for NegativeTTL. A failure to reach the AS is not an answer
// about the token and is not cached.
func (v *Verifier) remember(key [32]byte, a answer) {
	now := v.opts.Now()
	switch {
	case a.err == nil:
		until := now.Add(introCacheTTL)
		if a.claims.Expiry.Before(until) {
			until = a.claims.Expiry
		}
		v.cache.put(key, a.claims, until, now)
	case errors.Is(a.err, ErrInvalidToken):
		v.nope.put(key, refusal{a.err}, now.Add(v.opts.Introspection.NegativeTTL), now)
	}
}

// askAS asks the AS about token once one of the MaxConcurrent call slots
// is free, and checks its answer.
func (v *Verifier) askAS(ctx context.Context, token string) (Claims, error) {
	endpoint, err := v.introspectionURL(ctx)
	if err != nil {
		return Claims{}, err
	}
	select {
	case v.slots <- struct{}{}:
		defer func() { <-v.slots }()
	case <-ctx.Done():
		return Claims{}, unavailable("introspection: waiting for a call slot: %v", ctx.Err())
	}
	raw, err := v.postIntrospection(ctx, endpoint, token)
	if err != nil {
		return Claims{}, unavailable("introspection: %v", err)
	}
	return v.checkIntrospection(raw)
}

// introspectionURL is the configured endpoint, or the discovered one.
func (v *Verifier) introspectionURL(ctx context.Context) (string, error) {
	if u := v.opts.Introspection.URL; u != "" {
		return u, nil
	}
	var err error
	if v.ep.Load() == nil {
		err = v.refetch(ctx, false)
	}
	if ep := v.ep.Load(); ep != nil && ep.introspection != "" {
		return ep.introspection, nil
	}
	return "", unavailable("introspection endpoint not discovered: %v", err)
}

// postIntrospection asks the AS about token. The token travels in the
// form body (never the URL, which ends up in logs), and we authenticate
// with client_secret_basic; RFC 6749 §2.3.1 form-encodes both parts
// before base64.
func (v *Verifier) postIntrospection(ctx context.Context, endpoint, token string) (rawClaims, error) {
	in := v.opts.Introspection
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(in.ClientID), url.QueryEscape(in.ClientSecret))
	resp, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// 401 here means our client credentials are wrong: an operator's
		// problem, not the token's, so it is not reported as invalid_token.
		return nil, &statusError{endpoint, resp.StatusCode}
	}
	var raw rawClaims
	if err := decodeBounded(resp.Body, &raw, endpoint); err != nil {
		return nil, err
	}
	return raw, nil
}

type statusError struct {
	url  string
	code int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("POST %s: status %d", e.url, e.code)
}

// checkIntrospection applies to an introspection answer the checks a JWT
// gets: the AS says whether the token is active, we still decide whether
// it is for us (RFC 7662 §4: the resource server must check aud and scope).
func (v *Verifier) checkIntrospection(raw rawClaims) (Claims, error) {
	var active bool
	if json.Unmarshal(raw["active"], &active) != nil || !active {
		return Claims{}, invalid("introspection: not active")
	}
	c, t, reason := decodeClaims(raw, "scope")
	if reason != "" {
		return Claims{}, invalid("introspection: %s", reason)
	}
	if _, ok := raw["iss"]; ok && c.Issuer != v.opts.Issuer {
		return Claims{}, invalid("introspection: wrong issuer")
	}
	if _, ok := raw["aud"]; !ok {
		if !v.opts.Introspection.ImpliedAudience {
			return Claims{}, invalid("introspection: no aud")
		}
		c.Audience = []string{v.opts.Introspection.ClientID}
	}
	if !v.audienceOK(c.Audience) {
		return Claims{}, invalid("introspection: wrong audience")
	}
	if reason := v.checkTimes(t); reason != "" {
		return Claims{}, invalid("introspection: %s", reason)
	}
	if c.Issuer == "" {
		c.Issuer = v.opts.Issuer
	}
	return c, nil
}

// Introspection cache bounds: a positive answer is reused for at most
// introCacheTTL (so revocation at the AS reaches us within a minute) and
// never past the token's exp; each cache holds at most maxIntroCache
// entries.
const (
	introCacheTTL = 60 * time.Second
	maxIntroCache = 10_000
)
