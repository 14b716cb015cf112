package proxy

import (
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/config"
)

// streamRetryAfter is the Retry-After of that answer, in seconds: a slot
// frees when one of the user's streams ends, which the gateway cannot
// predict; a client that reconnects in a loop is slowed to this pace.
const streamRetryAfter = "30"

var errTooManyStreams = errors.New("too many open streams for this user")

// streamLimiter caps each user's open GET streams across every route. A
// GET stream holds a goroutine, a connection to the upstream (or a stdio
// child's attention) and a token re-check timer for as long as the client
// keeps it, so without a cap one user (or one stolen token) could hold
// any number of them open.
type streamLimiter struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

func newStreamLimiter(max int) *streamLimiter {
	if max <= 0 {
		max = config.DefaultMaxStreamsPerUser
	}
	return &streamLimiter{max: max, open: make(map[string]int)}
}

func (l *streamLimiter) acquire(user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[user] >= l.max {
		return false
	}
	l.open[user]++
	return true
}

func (l *streamLimiter) release(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[user]--; l.open[user] <= 0 {
		delete(l.open, user) // the map holds only users with open streams
	}
}

// streamOwner is whose cap a stream counts against: the user, or for a
// token without one (client credentials) the client.
func streamOwner(pr Principal) string {
	if pr.Subject != "" {
		return "user:" + pr.Subject
	}
	return "client:" + pr.ClientID
}

// wrap counts every GET forwarded through next against its caller's cap,
// from before the upstream is asked until the response body is closed
// (ReverseProxy always closes it, when the stream ends or the client goes
// away). The pipeline has verified the caller by then; a refused stream
// reaches the route's ErrorHandler as errTooManyStreams.
func (l *streamLimiter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		st := stateFrom(req.Context())
		if req.Method != http.MethodGet || st == nil {
			return next.RoundTrip(req)
		}
		owner := streamOwner(st.principal)
		if !l.acquire(owner) {
			return nil, errTooManyStreams
		}
		resp, err := next.RoundTrip(req)
		if err != nil {
			l.release(owner)
			return nil, err
		}
		resp.Body = &releasingBody{ReadCloser: resp.Body, release: sync.OnceFunc(func() { l.release(owner) })}
		return resp, nil
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// releasingBody gives its stream slot back when closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	b.release()
	return b.ReadCloser.Close()
}

// tooManyStreams answers a GET over the cap: 429 with Retry-After and a
// JSON-RPC error, audited as a limit hit.
func (rt *route) tooManyStreams(w http.ResponseWriter, r *http.Request) {
	pr := stateFrom(r.Context()).principal
	rt.p.opts.Log.InfoContext(r.Context(), "stream refused: per-user stream cap reached", "upstream", rt.up.Name, "user", pr.Subject)
	rt.p.record(r, audit.Event{Type: audit.RateLimitExceeded, Risk: 40, User: pr.Subject, Client: pr.ClientID,
		Details: map[string]any{"endpoint": "mcp", "upstream": rt.up.Name, "limit": "streams_per_user", "max": rt.p.streams.max}})
	w.Header().Set("Retry-After", streamRetryAfter)
	writeRPCError(w, r, http.StatusTooManyRequests, nil, codeRateLimited, "too many open streams")
}
