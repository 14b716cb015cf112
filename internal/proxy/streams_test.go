package proxy_test

import (
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// heldStreams is an upstream whose GET streams send one event and stay
// open until the test ends the one named by the request's X-Test-Stream.
// A POST is answered at once.
type heldStreams struct {
	mu   sync.Mutex
	ends map[string]chan struct{}
}

// end ends the stream name, once.
func (h *heldStreams) end(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.ch(name)
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (h *heldStreams) ch(name string) chan struct{} {
	if h.ends[name] == nil {
		h.ends[name] = make(chan struct{})
	}
	return h.ends[name]
}

func (h *heldStreams) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, sseResultEvent)
		return
	}
	h.mu.Lock()
	end := h.ch(r.Header.Get("X-Test-Stream"))
	h.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, sseProgressEvent)
	http.NewResponseController(w).Flush()
	select {
	case <-end:
	case <-r.Context().Done():
	}
}

func streamNamed(name string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("X-Test-Stream", name) }
}

// TestStreamsCappedPerUser: a user holding server.max_streams_per_user
// open GET streams gets 429 with Retry-After and a JSON-RPC error for one
// more, audited; another user is not affected; once one of the streams
// ends, the user may open another.
func TestStreamsCappedPerUser(t *testing.T) {
	up := &heldStreams{ends: map[string]chan struct{}{}}
	g, alice := sseGateway(t, up, testenv.Alice, func(c *config.Config) { c.Server.MaxStreamsPerUser = 2 })
	bob := sseToken(g, testenv.Bob)
	t.Cleanup(func() {
		for _, n := range []string{"a1", "a2", "a3", "b1"} {
			up.end(n) // every stream still held ends with the test
		}
	})

	a1 := readSSE(t, sseSend(t, t.Context(), g, alice, http.MethodGet, "", streamNamed("a1")).Body)
	a1.next()
	readSSE(t, sseSend(t, t.Context(), g, alice, http.MethodGet, "", streamNamed("a2")).Body).next()

	over := call(t, g, http.MethodGet, testenv.FilesPath, alice, "", streamNamed("over"))
	requireRPCError(t, over, http.StatusTooManyRequests, -32008)
	if got := over.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q, want 30", got)
	}
	g.RequireAudit(t, "rate_limit_exceeded", "limit", "streams_per_user", 1)
	// A POST is not a standing stream and is not capped.
	if r := post(t, g, testenv.FilesPath, alice, sseCallBody, streamNamed("post")); r.Status != http.StatusOK {
		t.Errorf("POST at the stream cap: %d %s, want 200", r.Status, r.Body)
	}

	readSSE(t, sseSend(t, t.Context(), g, bob, http.MethodGet, "", streamNamed("b1")).Body).next()

	// The upstream ends a1: the client sees its end only after the
	// gateway has closed the upstream body, which frees the slot.
	up.end("a1")
	a1.end()
	readSSE(t, sseSend(t, t.Context(), g, alice, http.MethodGet, "", streamNamed("a3")).Body).next()
}
