// Package extauth owns the verification of access tokens issued by an
// external authorization server, for routes in resource-server-only mode
// (SPEC §1 shape 2, PX-2, PX-3): discovery of the AS (RFC 8414, OIDC
// Discovery), its JWKS kept fresh in the background, JWT access tokens
// checked locally, and opaque tokens checked by RFC 7662 introspection with
// bounded caches.
//
// Threats it defends against, and where:
//
//   - Forged tokens: every JWT is verified against a key the AS published at
//     the jwks_uri its own metadata names, and the metadata is used only if
//     its issuer equals the configured issuer exactly (RFC 8414 §3.3), so a
//     document served for another AS cannot steer us to another key set.
//   - Algorithm confusion: an allow-list of asymmetric algorithms is applied
//     before any key is touched ("none" and HS* never are: with HS256 a
//     forger would MAC with the public key's bytes, RFC 8725 §2.1), and the
//     key must be of the algorithm's type, curve and size (keyFits).
//   - Tokens meant for someone else: iss is compared exactly, aud must
//     contain the configured audience exactly, and exp/nbf/iat are checked
//     with a small skew. An introspection answer without aud is refused
//     unless the operator says the AS itself binds the audience
//     (Introspection.ImpliedAudience).
//   - Key-rotation DoS: a token with an unknown kid may cause a JWKS refetch,
//     but at most one per MinRefetch and one at a time (callers arriving
//     during a fetch wait for it), so a flood of made-up kids costs the AS
//     one request per interval. Responses and key counts are bounded.
//   - Introspection DoS: each unknown opaque token would cost a call to the
//     AS, and a flood of made-up ones would spend the AS's rate limit,
//     after which every user gets 503. Refusals are cached for NegativeTTL
//     (apart from positive answers, so the flood cannot evict them),
//     concurrent requests with one token share one call, and at most
//     MaxConcurrent calls run at once; a caller that cannot get a slot
//     before its context ends gets ErrUnavailable.
//
// Errors wrap ErrInvalidToken (401 invalid_token) or ErrUnavailable (503)
// with a reason meant for logs; no error ever contains the token.
package extauth
