// Package login owns the identity-provider connectors (SPEC section 5): the
// Connector interfaces every provider implements (ID-1, modelled on dex's
// connector package), the local connector with its password hashes (ID-4)
// and the throttle that locks out password guessing.
package login
