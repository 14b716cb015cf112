// Package testenv will hold test fixtures shared across packages (fake IdPs,
// test upstreams, real MCP clients). Empty until the first issue that needs
// them.
package testenv
