// Package oauth will own the authorization-server endpoints (metadata,
// authorize, token, register, revoke, introspect), one file per endpoint. Empty
// until the Authorization server issue.
package oauth
