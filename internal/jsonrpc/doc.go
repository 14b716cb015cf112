// Package jsonrpc will own the strict JSON-RPC inspector. Empty until the
// MCP proxy issue.
package jsonrpc
