// Package policy will own per-tool policy decisions as pure functions. Empty
// until the MCP proxy issue.
package policy
