package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

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

// statusRecorder remembers the status code for the access log. It forwards
// Flush so streaming handlers keep working through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

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
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
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
			writeError(w, r, http.StatusInternalServerError, "server_error", "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries (SPEC HD-1):
// nothing is sniffed into another type, framed (clickjacking) or sent as a
// referrer (URLs here can carry authorization request IDs). HSTS is sent
// when the gateway is reached over https, so a browser never tries plain
// http again. HTML pages add their own CSP with a nonce.
func securityHeaders(hsts bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}
