// Package demoupstream owns the small, harmless MCP server that `mcpgate demo` puts behind the
// gateway, so a demo user can see tool filtering, step-up and identity propagation at work.
package demoupstream
