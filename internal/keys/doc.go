// Package keys owns the token-signing keys (SPEC OP-4, AS-5): it keeps them
// in the store with their private parts sealed, signs with the current one,
// publishes the JWKS, and rotates so that a new key is published before it
// signs and a retired one stays published until every token it signed has
// expired.
package keys
