// Package tokens owns access-token minting and verification (RFC 9068),
// refresh-token rotation with reuse detection, and the revocation cache
// that makes revocation reach access tokens on every instance.
package tokens
