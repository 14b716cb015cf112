package server

import (
	"net/http"
	"time"
)

// The http.Server has no WriteTimeout: it would cut every SSE stream at
// the same fixed age. Writes are bounded per answer instead
// (server.write_timeout), so a client that stops reading cannot hold a
// goroutine and a connection forever.

// writeDeadline gives every answer a deadline of d from the start of its
// request. It runs on every route; streamDeadlines replaces it on the MCP
// routes. It also replaces a deadline left on a keep-alive connection by
// its previous request (net/http resets deadlines only when its own
// WriteTimeout is set).
func writeDeadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// ErrNotSupported (a recorder in tests) leaves the answer
			// unbounded, as it is then not written to a network peer.
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
			next.ServeHTTP(w, r)
		})
	}
}

// streamDeadlines bounds the answers of an MCP route, which may be SSE
// streams lasting as long as the client keeps them: no deadline while the
// upstream has not answered (the upstream's timeout bounds that), then
// every write, flush included, must finish within d of its start, so a
// stream lives as long as it moves and a client that stops reading is cut
// off after d.
func streamDeadlines(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if rc.SetWriteDeadline(time.Time{}) != nil {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&progressWriter{ResponseWriter: w, rc: rc, d: d}, r)
	})
}

// progressWriter pushes the write deadline forward before writes. To keep
// the cost off the per-event path it does so at most every d/4, so each
// write still starts with at least 3/4 of d ahead of it.
type progressWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	d       time.Duration
	renewAt time.Time
}

func (p *progressWriter) extend() {
	if now := time.Now(); !now.Before(p.renewAt) {
		_ = p.rc.SetWriteDeadline(now.Add(p.d))
		p.renewAt = now.Add(p.d / 4)
	}
}

func (p *progressWriter) WriteHeader(code int) {
	p.extend()
	p.ResponseWriter.WriteHeader(code)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.extend()
	return p.ResponseWriter.Write(b)
}

func (p *progressWriter) Flush() {
	p.extend()
	_ = p.rc.Flush()
}

func (p *progressWriter) FlushError() error {
	p.extend()
	return p.rc.Flush()
}

func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
