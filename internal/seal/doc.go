// Package seal will own AES-256-GCM sealing with key IDs and per-purpose
// subkeys. Empty until the Authorization server issue.
package seal
