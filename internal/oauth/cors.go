package oauth

import (
	"encoding/json"
	"net/http"

	corspolicy "github.com/mcpgate/mcpgate/internal/cors"
)

// publicCORS opens the endpoints browser-based MCP clients call directly
// (metadata, JWKS, token, registration, revocation; SPEC AS-1) to every
// origin. That is safe because none of them uses cookies: each caller
// authenticates itself in the request (client credentials, PKCE, a
// token), and package cors never allows credentials, so no page can ride
// a user's session here. The pages (authorize, login, consent) and
// introspection get no CORS at all.
var publicCORS = corspolicy.Policy{
	Methods:       "GET, POST, OPTIONS",
	AllowHeaders:  "Authorization, Content-Type, MCP-Protocol-Version",
	ExposeHeaders: "WWW-Authenticate, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id",
}

func cors(next http.Handler) http.Handler { return publicCORS.Wrap(next) }

func writeIndented(w http.ResponseWriter, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Write(append(b, '\n'))
}
