package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Verification errors. ErrInvalidToken is wrapped with a reason that is
// safe to log but must not be echoed to the client: a client learns only
// "invalid_token" (RFC 6750 §3.1), so a forger gets no oracle telling which
// check failed.
var (
	ErrInvalidToken = errors.New("tokens: invalid access token")
	// ErrRevokedToken: the token is well formed and signed but its family,
	// its jti or its user's epoch is revoked (SPEC AS-5a). Errors carrying
	// it also match ErrInvalidToken, since to the client it is one.
	ErrRevokedToken = errors.New("tokens: access token revoked")
	// ErrRevocationUnavailable: the verifier has no revocation cache, or the
	// cache has not loaded yet. Verify fails closed; callers answer 503 (not
	// 401, which would make clients discard good tokens) and keep the
	// instance unready until RevocationCache.Ready.
	ErrRevocationUnavailable = errors.New("tokens: revocation state not loaded")
)

// DefaultSkew is the clock skew allowed on exp, nbf and iat.
const DefaultSkew = 30 * time.Second

// maxTokenLen bounds the work an attacker can ask of the parser; our
// tokens are well under 2 KiB.
const maxTokenLen = 8 << 10

// DefaultAlgorithms are the signature algorithms accepted when
// Verifier.Algorithms is empty (SPEC AS-5: ES256 default, EdDSA and RS256
// selectable).
var DefaultAlgorithms = []string{"ES256", "EdDSA", "RS256"}

var defaultAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

// Verifier checks access tokens for a protected resource: the proxy's
// token check and the introspection endpoint. Do not copy a Verifier
// after first use.
type Verifier struct {
	Issuer string
	Keys   KeySource
	// Algorithms allowed in the JWS header; empty means DefaultAlgorithms.
	// Only asymmetric algorithms are ever honoured: "none" and HS* are
	// dropped even if configured (RFC 8725 §3.1, §3.2).
	Algorithms []string
	Skew       time.Duration // 0: DefaultSkew
	Revoked    *RevocationCache
	Now        func() time.Time

	algsOnce sync.Once
	algs     []jose.SignatureAlgorithm
	lastAud  atomic.Pointer[[2]string] // raw and canonical expected audience
}

// Verify returns the claims of a valid, unrevoked access token for
// audience (a protected resource URI, compared in canonical form).
// Failures wrap ErrInvalidToken, ErrRevokedToken (which also matches
// ErrInvalidToken) or are ErrRevocationUnavailable.
func (v *Verifier) Verify(_ context.Context, token, audience string) (Claims, error) {
	c, err := v.signedClaims(token)
	if err != nil {
		return Claims{}, err
	}
	if err := v.checkClaims(&c, audience); err != nil {
		return Claims{}, err
	}
	switch {
	case v.Revoked == nil || !v.Revoked.Ready():
		return Claims{}, ErrRevocationUnavailable
	case v.Revoked.IsRevoked(c):
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, ErrRevokedToken)
	}
	return c, nil
}

// signedClaims verifies the token's header and signature and decodes its
// claims, checking none of them.
func (v *Verifier) signedClaims(token string) (Claims, error) {
	payload, err := v.verifySignature(token)
	if err != nil {
		return Claims{}, err
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, invalid("malformed claims")
	}
	return c, nil
}

// verifySignature parses the compact JWS, checks its header and signature
// and returns the payload.
func (v *Verifier) verifySignature(token string) ([]byte, error) {
	if len(token) > maxTokenLen {
		return nil, invalid("too long")
	}
	// Compact serialisation only: the JSON serialisations (RFC 7515 §7.2)
	// can carry several signatures and unprotected headers, which access
	// tokens never use (RFC 9068 §2.1). The allow-list is enforced here,
	// before any key is touched: alg "none" and HS* never get further.
	jws, err := jose.ParseSignedCompact(token, v.algorithms())
	if err != nil || len(jws.Signatures) != 1 {
		return nil, invalid("malformed JWS or algorithm not allowed")
	}
	h := jws.Signatures[0].Protected
	if h.KeyID == "" {
		return nil, invalid("no kid")
	}
	if !typeOK(h.ExtraHeaders[jose.HeaderType]) {
		return nil, invalid("typ is not at+jwt")
	}
	key, ok := v.Keys.PublicKey(h.KeyID)
	if !ok {
		return nil, invalid("unknown kid")
	}
	if !keyFits(h.Algorithm, key) {
		return nil, invalid("key does not fit alg")
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, invalid("bad signature")
	}
	return payload, nil
}

// typeOK: RFC 9068 §4 requires typ "at+jwt" (or the full media type
// "application/at+jwt"), compared case-insensitively (RFC 7515 §4.1.9).
// This keeps an ID token or other JWT signed by the same key from being
// accepted as an access token (RFC 8725 §3.11).
func typeOK(typ any) bool {
	s, _ := typ.(string)
	return strings.EqualFold(s, TypeAccessToken) || strings.EqualFold(s, "application/"+TypeAccessToken)
}

// checkClaims enforces RFC 9068 §4: required claims, iss, aud and times.
func (v *Verifier) checkClaims(c *Claims, audience string) error {
	if c.Subject == "" || c.ClientID == "" || c.JTI == "" || c.SID == "" || c.IssuedAt == 0 || c.Expiry == 0 {
		return invalid("required claim missing")
	}
	if c.Issuer != v.Issuer { // RFC 9068 §4: exact match
		return invalid("wrong issuer")
	}
	if !v.audienceOK(c.Audience, audience) {
		return invalid("wrong audience")
	}
	return v.checkTimes(c)
}

// checkTimes checks exp, nbf and iat against the injected clock with skew.
func (v *Verifier) checkTimes(c *Claims) error {
	skew := v.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	t := now(v.Now)
	if !t.Before(time.Unix(c.Expiry, 0).Add(skew)) {
		return invalid("expired")
	}
	early := t.Add(skew)
	if c.NotBefore != 0 && early.Before(time.Unix(c.NotBefore, 0)) {
		return invalid("not yet valid")
	}
	if early.Before(time.Unix(c.IssuedAt, 0)) {
		return invalid("issued in the future")
	}
	return nil
}

// audienceOK reports whether aud contains audience, both canonicalised.
// The expected audience's canonical form is cached (the proxy asks for
// the same few resources); Mint writes canonical aud values, so a byte
// compare usually decides and the token side is only canonicalised on a
// mismatch.
func (v *Verifier) audienceOK(aud Audience, audience string) bool {
	want, ok := v.canonicalAudience(audience)
	if !ok {
		return false
	}
	for _, a := range aud {
		if a == want {
			return true
		}
		if ca, err := CanonicalResource(a); err == nil && ca == want {
			return true
		}
	}
	return false
}

func (v *Verifier) canonicalAudience(raw string) (string, bool) {
	if p := v.lastAud.Load(); p != nil && p[0] == raw {
		return p[1], true
	}
	c, err := CanonicalResource(raw)
	if err != nil {
		return "", false
	}
	v.lastAud.Store(&[2]string{raw, c})
	return c, true
}

func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, reason)
}
