// Command mcpgate is the gateway binary. It only parses subcommands and flags
// and hands over to internal/server; it holds no product logic.
package main
