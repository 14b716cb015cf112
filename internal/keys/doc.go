// Package keys will own signing keys, their rotation and the JWKS. Empty
// until the Authorization server issue.
package keys
