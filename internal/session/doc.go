// Package session owns server-side browser sessions (SPEC SE-1), the
// flow-binding cookie that ties an authorization flow to the browser that
// started it (SPEC AS-3, login CSRF), and the consent records a user's
// approvals are kept in (SPEC AS-3). The consent page itself is rendered by
// package oauth.
package session
