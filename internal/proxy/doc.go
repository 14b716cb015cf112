// Package proxy owns the MCP reverse proxy: each upstream is a protected
// resource (SPEC PX-1) whose requests pass one pipeline, in one place
// (pipeline.go): Host and Origin checks (DNS rebinding), the bearer token
// (never from the query string) verified and cached, the strict JSON-RPC
// inspection of the body, per-tool policy, session binding, and the
// upstream's own credentials. The client's token and the gateway's cookies
// never reach an upstream (token passthrough would let an upstream replay
// them at every other resource the token is good for), and the bytes
// forwarded are exactly the bytes inspected, so the upstream can never
// read a request differently from the policy that allowed it.
package proxy
