package extauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// maxKeys bounds the key set: an AS publishes a handful (current, next,
// previous). A larger set is refused outright rather than truncated, so a
// key past the cut can never turn into a silent "unknown kid".
const maxKeys = 100

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// allowedAlgs is the signature allow-list, applied by the JWS parser before
// any key is looked at. "none" and HS* are absent on purpose: an HMAC
// "verified" with a published key's bytes proves nothing (RFC 8725 §2.1,
// §3.1).
var allowedAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384, jose.EdDSA,
}

// keySet is one JWKS as fetched: immutable once built, swapped whole.
type keySet struct {
	byKID map[string][]jose.JSONWebKey
	all   []jose.JSONWebKey
}

// candidates returns the keys a token's kid may refer to. A token without
// kid is accepted only while the AS publishes a single key: with several,
// trying each would let the AS's rotation policy (which key is current)
// be ignored and multiply the signature work per bad token.
func (ks *keySet) candidates(kid string) ([]jose.JSONWebKey, string) {
	if kid == "" {
		if len(ks.all) == 1 {
			return ks.all, ""
		}
		return nil, "no kid and the JWKS has several keys"
	}
	if c := ks.byKID[kid]; len(c) > 0 {
		return c, ""
	}
	return nil, reasonUnknownKID
}

const reasonUnknownKID = "unknown kid"

// fetchJWKS downloads and parses the key set at u.
func (v *Verifier) fetchJWKS(ctx context.Context, u string) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := v.getJSON(ctx, u, &doc); err != nil {
		return nil, err
	}
	if len(doc.Keys) > maxKeys {
		return nil, fmt.Errorf("JWKS at %s has %d keys, more than %d", u, len(doc.Keys), maxKeys)
	}
	ks := &keySet{byKID: make(map[string][]jose.JSONWebKey)}
	for i, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			v.opts.Log.Debug("extauth: JWKS key skipped", "jwks", u, "index", i, "reason", err)
			continue
		}
		if reason := unusable(k); reason != "" {
			v.opts.Log.Debug("extauth: JWKS key skipped", "jwks", u, "kid", k.KeyID, "reason", reason)
			continue
		}
		ks.all = append(ks.all, k)
		if k.KeyID != "" {
			ks.byKID[k.KeyID] = append(ks.byKID[k.KeyID], k)
		}
	}
	// An AS always publishes its current key; an empty set is a fault on
	// its side, and adopting it would turn every request into a 401.
	if len(ks.all) == 0 {
		return nil, fmt.Errorf("JWKS at %s has no usable signing key", u)
	}
	return ks, nil
}

// unusable says why a published key is never used for verification, or ""
// if it may be. A key whose "use" is stated and is not "sig" is for
// encryption (RFC 7517 §4.2); symmetric keys and private keys do not belong
// in a JWKS that resource servers fetch.
func unusable(k jose.JSONWebKey) string {
	switch {
	case k.Use != "" && k.Use != "sig":
		return "use is not sig"
	case !k.IsPublic():
		return "not an asymmetric public key"
	case !k.Valid():
		return "invalid key parameters"
	}
	for _, alg := range allowedAlgs {
		if keyFits(string(alg), k) {
			return ""
		}
	}
	return "fits no allowed algorithm"
}

// keyFits binds the header's alg to the published key: the key must be of
// the algorithm's type, curve and size, and agree with the JWK's own "alg"
// when it states one. This is the algorithm-confusion defence that does not
// rest on the allow-list alone: a key published for RS256 never verifies an
// ES256 (or HS256) signature.
func keyFits(alg string, k jose.JSONWebKey) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		return pub != nil && ((alg == "ES256" && pub.Curve == elliptic.P256()) ||
			(alg == "ES384" && pub.Curve == elliptic.P384()))
	case ed25519.PublicKey:
		return alg == "EdDSA" && len(pub) == ed25519.PublicKeySize
	case *rsa.PublicKey:
		return pub != nil && pub.N != nil && pub.N.BitLen() >= minRSABits &&
			(alg == "RS256" || alg == "RS384" || alg == "RS512" || alg == "PS256")
	}
	return false
}
