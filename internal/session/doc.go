// Package session will own browser sessions and consent records. Empty until
// the Authorization server issue.
package session
