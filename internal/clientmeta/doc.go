// Package clientmeta owns the rules OAuth client metadata must follow and
// fetches client ID metadata documents safely.
//
// The same rules serve dynamic registration (RFC 7591), client ID metadata
// documents (CIMD, draft-ietf-oauth-client-id-metadata-document, MCP
// 2025-11-25) and clients from the config file (SPEC AS-2, AS-7), so no
// registration path can admit a redirect URI another one would refuse.
package clientmeta
