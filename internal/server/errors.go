package server

import (
	"encoding/json"
	"net/http"
)

// errorBody is the JSON error shape of the gateway's own (non-OAuth,
// non-JSON-RPC) endpoints. It names the request ID and nothing internal.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	RequestID   string `json:"request_id"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	writeJSON(w, status, errorBody{Error: code, Description: desc, RequestID: RequestID(r.Context())})
}

// notFound answers every unknown path, well-known probes included, with a
// 404 (never a 5xx: MCP clients probe several discovery paths).
func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusNotFound, "not_found", "")
}
