// Package e2e holds the end-to-end tests: real MCP clients (the go-sdk
// OAuth client) drive a real gateway in front of a real upstream, from the
// first 401 through discovery, registration, login, consent, token and
// step-up, as a user's client would (SPEC §10, real MCP clients).
package e2e
