// Package jsonrpc owns the strict JSON-RPC 2.0 inspector the MCP proxy runs
// on every POST body before any policy decision (SPEC PX-5, PX-6): it
// refuses bodies that two JSON parsers could read differently (duplicate
// keys, case variants of the keys a decision depends on, invalid UTF-8,
// deep nesting) and reports the method, tool/prompt name or resource URI
// that the upstream will execute. It never re-encodes: the caller forwards
// the exact bytes it inspected.
package jsonrpc
