package tokens

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"

	"github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3 requires
// 2048 bits).
const minRSABits = 2048

// asymmetric lists the algorithms a Verifier can ever accept. Symmetric
// (HS*) and "none" are absent on purpose: with HS256 a forger would sign
// with the public key's bytes as the MAC secret (RFC 8725 §2.1, §3.1).
var asymmetric = map[string]jose.SignatureAlgorithm{
	"ES256": jose.ES256, "ES384": jose.ES384, "ES512": jose.ES512,
	"EdDSA": jose.EdDSA,
	"RS256": jose.RS256, "RS384": jose.RS384, "RS512": jose.RS512,
	"PS256": jose.PS256, "PS384": jose.PS384, "PS512": jose.PS512,
}

// algorithms is the allow-list passed to the JWS parser, computed once.
func (v *Verifier) algorithms() []jose.SignatureAlgorithm {
	v.algsOnce.Do(func() {
		if len(v.Algorithms) == 0 {
			v.algs = defaultAlgs
			return
		}
		// If nothing usable is configured the list stays empty, and
		// go-jose refuses every token: the verifier fails closed.
		for _, a := range v.Algorithms {
			if alg, ok := asymmetric[a]; ok {
				v.algs = append(v.algs, alg)
			}
		}
	})
	return v.algs
}

// keyFits binds the header's alg to the published key: the key must be a
// public key of the algorithm's type (and curve), and agree with the JWK's
// own "alg" and "use" when it states them. This is the defence against
// algorithm confusion that does not rely on the allow-list alone: a key
// published for ES256 never verifies an RS256 or HS256 signature.
func keyFits(alg string, k jose.JSONWebKey) bool {
	if (k.Algorithm != "" && k.Algorithm != alg) || (k.Use != "" && k.Use != "sig") {
		return false
	}
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		return pub != nil && ((alg == "ES256" && pub.Curve == elliptic.P256()) ||
			(alg == "ES384" && pub.Curve == elliptic.P384()) ||
			(alg == "ES512" && pub.Curve == elliptic.P521()))
	case ed25519.PublicKey:
		return alg == "EdDSA" && len(pub) == ed25519.PublicKeySize
	case *rsa.PublicKey:
		return pub != nil && pub.N != nil && pub.N.BitLen() >= minRSABits &&
			(alg == "RS256" || alg == "RS384" || alg == "RS512" ||
				alg == "PS256" || alg == "PS384" || alg == "PS512")
	default:
		return false
	}
}
