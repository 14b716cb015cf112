package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/reqid"
	"github.com/mcpgate/mcpgate/internal/scope"
)

// JSON-RPC error codes the gateway answers with besides the inspector's
// (JSON-RPC 2.0 §5.1 reserves -32000 to -32099 for implementation errors).
const (
	codeServerError  = -32000 // upstream unreachable or failed
	codeUnauthorized = -32001 // no or invalid token (the HTTP status and WWW-Authenticate say more)
	codeForbidden    = -32003 // policy refused the call, or Origin/Host refused
	codeNotFound     = -32004 // unknown or foreign MCP session
	codeTooLarge     = -32005 // request body over the limit
	codeTimeout      = -32006 // upstream did not answer in time
	codeUnavailable  = -32007 // token verification or the upstream is unavailable
	codeRateLimited  = -32008 // over a rate limit or the per-user stream cap (429)
)

type rpcError struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

type rpcErrorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   rpcError        `json:"error"`
}

// writeRPCError writes one JSON-RPC error response with the HTTP status.
// id is the request's id when the body held a single request, else null
// (JSON-RPC 2.0 §5). The message is fixed text chosen by the gateway,
// never an upstream's or a library's error string, and data carries the
// request ID so an operator can find the matching log line without the
// client learning anything internal.
func writeRPCError(w http.ResponseWriter, r *http.Request, status int, id json.RawMessage, code int, msg string) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	body := rpcErrorResponse{JSONRPC: "2.0", ID: id, Error: rpcError{Code: code, Message: msg}}
	if rid := reqid.From(r.Context()); rid != "" {
		body.Error.Data = map[string]any{"request_id": rid}
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// challenge builds a WWW-Authenticate Bearer challenge (RFC 6750 §3,
// RFC 9728 §5.1). Every value is quoted; scope is left out when empty.
// errCode is empty when the request carried no token at all (RFC 6750
// §3.1: no error code then), so the client knows to start authorization
// rather than report a broken token.
func challenge(errCode, resourceMetadata string, scopes []string) string {
	var b strings.Builder
	b.WriteString("Bearer ")
	if errCode != "" {
		b.WriteString(`error="` + errCode + `", `)
	}
	b.WriteString(`resource_metadata="` + resourceMetadata + `"`)
	// Scope names come from config, which admits only scope-tokens; one
	// that is not (a '"' or '\\' would end or escape the quoted string and
	// let the rest be read as further parameters) is left out here too.
	var valid []string
	for _, s := range scopes {
		if scope.ValidToken(s) {
			valid = append(valid, s)
		}
	}
	if len(valid) > 0 {
		b.WriteString(`, scope="` + strings.Join(valid, " ") + `"`)
	}
	return b.String()
}
