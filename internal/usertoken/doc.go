// Package usertoken keeps the per-user state of the login connectors
// (login.Identity.ConnectorData) and, for token connectors (oidc, github),
// the user's own upstream tokens (SPEC ID-5): it stores them sealed,
// hands out a fresh access token for credentials type user_token (SPEC
// PX-8) and runs every refresh.
//
// The threat it is built around is the rotating refresh token: many
// providers invalidate a refresh token when it is redeemed, and treat a
// second redemption as theft (invalid_grant, often revoking the whole
// grant). Two refreshes of one user's data at once, from two requests or
// two gateway instances, would therefore log the user out at the provider.
// So every Refresh of a token connector goes through the Manager, which
// runs exactly one at a time per (user, provider): callers in one process
// share one flight, the process holds an in-process lock and a store lease
// while it refreshes, and a caller that finds the lease taken waits for
// it and re-reads the winner's stored result instead of refreshing again.
//
// Data is bound to the connector's ConfigHash: data another configuration
// (another issuer or client ID) issued is treated as no data at all, so a
// reconfigured provider never receives, and no upstream is ever sent, a
// token minted for something else.
package usertoken
