// Package login will own the identity-provider connectors (local, oidc,
// github). Empty until the Authorization server and Identity providers issues.
package login
