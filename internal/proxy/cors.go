package proxy

import "github.com/mcpgate/mcpgate/internal/cors"

// mcpCORS is the cross-origin policy of the MCP routes: browser-based
// clients (MCP Inspector and the like) on an allowed origin may call them
// and read the session ID and the authentication challenge; every other
// origin gets no CORS header, and its preflight is refused. The pipeline
// refuses a foreign Origin's real request too (sameOrigin, SPEC PX-10):
// CORS only decides what a page may read, never what the gateway accepts.
// A preflight carries no token, so it is answered before authentication.
func (p *Proxy) mcpCORS() cors.Policy {
	return cors.Policy{
		Origins: p.origins,
		Methods: "GET, POST, DELETE",
		AllowHeaders: "Authorization, Content-Type, Accept, Last-Event-ID, " +
			HeaderSessionID + ", Mcp-Protocol-Version, Mcp-Method, Mcp-Name",
		ExposeHeaders: HeaderSessionID + ", Mcp-Protocol-Version, WWW-Authenticate, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id",
	}
}

// gatewayResponseHeaders are response headers the gateway owns on the MCP
// routes; an upstream's copies are dropped (ownedHeadersDropped). A
// forwarded answer would otherwise carry both values: two
// X-Frame-Options make browsers ignore the header, and an upstream's
// Access-Control-Allow-Origin: * (with or without credentials) would
// open the route to every origin past allowed_origins.
var gatewayResponseHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Expose-Headers", "Access-Control-Max-Age",
	"Strict-Transport-Security", "Content-Security-Policy",
	"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
	"Cross-Origin-Resource-Policy",
}
