// Package tokens will own access-token minting and verification and
// refresh-token rotation. Empty until the Authorization server issue.
package tokens
