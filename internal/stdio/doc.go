// Package stdio owns the bridge from MCP Streamable HTTP to local stdio MCP
// servers (SPEC PX-11): one child process per MCP session, so users never
// share a process's memory or state, started with only its configured
// environment plus PATH and HOME, because the gateway's own environment
// holds its secrets; every child runs in its own process group so nothing
// it spawns outlives its session. Children are bounded in total
// (MaxProcesses) and per owner (MaxPerOwner), so one user cannot take every
// slot, and a session abandoned right after its initialize is ended after
// InitTimeout.
package stdio
