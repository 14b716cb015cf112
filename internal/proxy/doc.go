// Package proxy will own the MCP reverse proxy and its request pipeline.
// Empty until the MCP proxy issue.
package proxy
