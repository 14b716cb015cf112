package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/reqid"
)

// RequestIDHeader carries the request ID on every response, so an operator
// can match a client's error to its log line (SPEC AS-10).
const RequestIDHeader = reqid.Header

// chain wraps h in middleware; the last one listed runs first.
func chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for _, m := range mw {
		h = m(h)
	}
	return h
}

// withRequestID gives every request a fresh random ID. A client-sent ID is
// ignored on purpose: it would let a client forge or collide log lines.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := reqid.New()
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(reqid.With(r.Context(), id)))
	})
}

// RequestID returns the ID withRequestID assigned, or "".
func RequestID(ctx context.Context) string { return reqid.From(ctx) }

// logRequests writes one access-log line per request. It logs the path but
// never the query string, which may carry codes or state.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelInfo) {
			// Level warn or above: no line to write, so no wrapper either
			// (this runs on every proxied call, SPEC PF-1).
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &metrics.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.Code()),
			slog.Duration("duration", time.Since(start)))
	})
}

// recoverPanics turns a handler panic into a generic 500 that names only
// the request ID; the stack goes to the log, never to the client (AS-10).
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the server's own signal to drop the connection
			}
			s.log.Error("handler panic", "request_id", RequestID(r.Context()), "panic", v, "stack", string(debug.Stack()))
			resetHeaders(w.Header(), s.hsts())
			writeError(w, r, http.StatusInternalServerError, "server_error", "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries (SPEC HD-1):
//   - X-Content-Type-Options: nothing is sniffed into another type (a JSON
//     error echoing input must never run as HTML or script).
//   - X-Frame-Options and CSP frame-ancestors: nothing is framed
//     (clickjacking of the consent page).
//   - Referrer-Policy: URLs here can carry authorization request IDs.
//   - Content-Security-Policy "default-src 'none'": a JSON or SSE answer
//     that a browser is tricked into rendering loads and runs nothing. The
//     HTML pages replace it with their own, which allows only their
//     nonce-tagged style (oauth/pages.go).
//   - Cross-Origin-Resource-Policy same-origin: another site cannot pull
//     an answer into its page with <script> or <img> (no-cors loads, the
//     Spectre-style read). CORS fetches, which the public endpoints and
//     the MCP routes allow, are not affected by it.
//   - HSTS when the gateway is reached over https, so a browser never
//     tries plain http again.
//
// Not sent: Cross-Origin-Opener-Policy, because same-origin on the
// authorization pages would cut the window.opener link that popup-based
// OAuth clients use once the popup reaches their redirect URI. Cache
// headers are the handlers' choice: answers carrying tokens or user data
// say no-store (RFC 6749 §5.1), public documents may be cached.
func securityHeaders(hsts bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setSecurityHeaders(w.Header(), hsts)
			next.ServeHTTP(w, r)
		})
	}
}

// defaultCSP is the policy of every answer that is not an HTML page.
const defaultCSP = "default-src 'none'; frame-ancestors 'none'"

func setSecurityHeaders(h http.Header, hsts bool) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", defaultCSP)
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if hsts {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// resetHeaders drops whatever a panicking handler had set (a session
// cookie, a redirect, CORS headers for its route) before the 500 is
// written, keeping the request ID and the security headers.
func resetHeaders(h http.Header, hsts bool) {
	for k := range h {
		if k != RequestIDHeader {
			delete(h, k)
		}
	}
	setSecurityHeaders(h, hsts)
}
