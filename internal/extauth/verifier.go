package extauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Verification errors. Both are wrapped with a reason that is for logs:
// a client learns only "invalid_token" (RFC 6750 §3.1), so a forger gets
// no oracle telling which check failed.
var (
	// ErrInvalidToken: the token is not acceptable. Answer 401 invalid_token.
	ErrInvalidToken = errors.New("extauth: invalid access token")
	// ErrUnavailable: the AS or its keys cannot be reached and nothing
	// usable is cached. Answer 503: a 401 would make clients discard
	// tokens that are good.
	ErrUnavailable = errors.New("extauth: authorization server unavailable")
)

// maxTokenLen bounds the work a request can ask of the parser. Okta tokens
// with many groups run to a few KiB; HTTP servers cap headers near here.
const maxTokenLen = 32 << 10

// Verifier checks access tokens from one external AS for one audience. It
// is safe for concurrent use.
type Verifier struct {
	opts  Options
	ep    atomic.Pointer[endpoints] // set once discovery succeeded
	keys  atomic.Pointer[keySet]    // nil until a JWKS was loaded
	fetch fetchState
	cache *introCache[Claims]  // positive introspection answers
	nope  *introCache[refusal] // refused tokens, for NegativeTTL
	intro flights              // introspection calls in flight, by token hash
	slots chan struct{}        // one per call to the AS, MaxConcurrent of them
}

// New checks opts and returns a Verifier. It does no I/O: discovery and
// the first key fetch happen on the first Verify or in Run, so the gateway
// starts while the AS is down.
func New(opts Options) (*Verifier, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	v := &Verifier{
		opts:  opts,
		cache: newIntroCache[Claims](maxIntroCache),
		nope:  newIntroCache[refusal](maxIntroCache),
		intro: flights{m: make(map[[32]byte]*flight)},
	}
	if opts.Introspection != nil {
		v.slots = make(chan struct{}, opts.Introspection.MaxConcurrent)
	}
	return v, nil
}

// Ready reports whether tokens can be verified without reaching the AS
// first: keys are loaded, or the AS publishes none and introspection is
// configured.
func (v *Verifier) Ready() bool {
	if v.keys.Load() != nil {
		return true
	}
	ep := v.ep.Load()
	return ep != nil && ep.jwks == "" && ep.introspection != ""
}

// Verify returns the claims of a valid token. Failures wrap
// ErrInvalidToken or ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	switch {
	case token == "":
		return Claims{}, invalid("empty token")
	case len(token) > maxTokenLen:
		return Claims{}, invalid("token longer than %d bytes", maxTokenLen)
	case strings.Count(token, ".") != 2:
		// Not a compact JWS (JWE and opaque handles alike): only the AS
		// can say what it means.
		return v.introspect(ctx, token)
	}
	ks, err := v.ensureKeys(ctx)
	if err != nil {
		return Claims{}, err
	}
	if ks == nil {
		return v.introspect(ctx, token) // the AS publishes no JWKS
	}
	return v.verifyJWT(ctx, token, ks)
}

// ensureKeys returns the loaded key set, loading it if none ever was, or
// nil when the AS publishes no keys but introspection is configured.
func (v *Verifier) ensureKeys(ctx context.Context) (*keySet, error) {
	if ks := v.keys.Load(); ks != nil {
		return ks, nil
	}
	err := v.refetch(ctx, false)
	if ks := v.keys.Load(); ks != nil {
		return ks, nil
	}
	if ep := v.ep.Load(); ep != nil && ep.jwks == "" {
		if v.opts.Introspection == nil {
			return nil, unavailable("the AS publishes no jwks_uri and introspection is not configured")
		}
		return nil, nil
	}
	return nil, unavailable("no keys loaded: %v", err)
}

// checkTimes enforces exp (required), nbf and iat with the allowed skew.
func (v *Verifier) checkTimes(t timeClaims) string {
	now, skew := v.opts.Now(), v.opts.Skew
	if !now.Before(time.Time(*t.exp).Add(skew)) {
		return "expired"
	}
	if t.nbf != nil && now.Add(skew).Before(time.Time(*t.nbf)) {
		return "not yet valid"
	}
	if t.iat != nil && now.Add(skew).Before(time.Time(*t.iat)) {
		return "issued in the future"
	}
	return ""
}

// audienceOK: the configured audience must be one of aud, compared
// exactly. A token for another API at the same AS fails here.
func (v *Verifier) audienceOK(aud []string) bool {
	return slices.Contains(aud, v.opts.Audience)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, args...))
}

func unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnavailable, fmt.Sprintf(format, args...))
}
