package stdio

import (
	"context"
	"io"
	"sync"
)

// eventStream is the body of a 200 text/event-stream response: a POST's
// stream (its requests' responses, plus messages routed to it) or the
// session's standalone GET stream. The session's stdout router is the only
// sender on ch and the only one to close it; the HTTP side reads and
// finally calls Close.
type eventStream struct {
	s      *session
	ctx    context.Context // the client's request: when it ends, so does Read
	ch     chan line
	gone   chan struct{} // closed by Close: the router stops delivering here
	queued []line        // messages held for the next GET, handed over at open

	// Guarded by s.mu.
	pending int // requests still waiting for a response

	buf       []byte // the event being read out
	closeOnce sync.Once
}

// streamBuffer lets the router run a few messages ahead of a client before
// it waits for it: a slow client slows its own child (whose stdout then
// fills), and nobody else's.
const streamBuffer = 16

func newEventStream(ctx context.Context, s *session) *eventStream {
	return &eventStream{s: s, ctx: ctx, ch: make(chan line, streamBuffer), gone: make(chan struct{})}
}

// Read returns the stream as SSE events, one per message (MCP
// basic/transports §Streamable HTTP: each JSON-RPC message an event). It
// returns io.EOF when the router closes the stream (last response, or the
// child is gone) and the context's error when the client goes away; the
// child lives on either way.
func (st *eventStream) Read(p []byte) (int, error) {
	for len(st.buf) == 0 {
		if len(st.queued) > 0 {
			st.buf = sseEvent(st.queued[0])
			st.queued = st.queued[1:]
			continue
		}
		select {
		case msg, ok := <-st.ch:
			if !ok {
				return 0, io.EOF
			}
			st.buf = sseEvent(msg)
		case <-st.ctx.Done():
			return 0, st.ctx.Err()
		}
	}
	n := copy(p, st.buf)
	st.buf = st.buf[n:]
	return n, nil
}

// Close detaches the stream from its session: responses still due to it
// are dropped when they come, and other messages go elsewhere.
func (st *eventStream) Close() error {
	st.closeOnce.Do(func() {
		st.s.closeStream(st)
		close(st.gone)
	})
	return nil
}

// sseEvent frames msg as one SSE event. A line holds no CR or LF, so the
// data cannot end the event early or smuggle in an id, retry or event
// field (WHATWG HTML §9.2.6).
func sseEvent(msg line) []byte {
	ev := make([]byte, 0, len(msg)+len("event: message\ndata: \n\n"))
	ev = append(ev, "event: message\ndata: "...)
	ev = append(ev, msg...)
	return append(ev, "\n\n"...)
}
