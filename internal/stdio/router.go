package stdio

import (
	"io"
	"os"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// Bounds of the messages held for a GET stream that is not open: a child
// that chatters with no listener costs bounded memory, oldest dropped.
const (
	backlogMessages = 64
	stderrLineBytes = 4 << 10
)

// readStdout routes every message the child writes. It is the only sender
// on the session's streams and closes each: after its last response, or
// all of them when stdout ends.
func (s *session) readStdout(f *os.File, done chan<- struct{}) {
	defer close(done)
	defer f.Close()
	defer s.endStreams()
	lr := newLineReader(f, s.b.maxMsg)
	for {
		l, long, err := lr.next()
		if long {
			s.log.Error("stdio child wrote a stdout line over the limit", "limit", s.b.maxMsg)
			s.terminate(reasonLongLine)
			return
		}
		if err != nil {
			return
		}
		msgs, perr := parseChildLine(l)
		if perr != nil {
			// Servers that print banners to stdout break the protocol but
			// not the session; keep a bounded excerpt for the operator.
			s.log.Warn("stdio child wrote a non-JSON-RPC stdout line", "line", excerpt(l))
			continue
		}
		for _, m := range msgs {
			s.route(m)
		}
	}
}

func excerpt(l []byte) string {
	if len(l) > stderrLineBytes {
		l = l[:stderrLineBytes]
	}
	return string(l)
}

// route delivers a response to the stream of its request and anything else
// (the child's own requests, notifications) by routeUnsolicited.
func (s *session) route(m childMsg) {
	if m.kind != jsonrpc.KindResponse {
		s.routeUnsolicited(m)
		return
	}
	s.mu.Lock()
	st := s.pending[m.idKey]
	if st == nil {
		s.mu.Unlock()
		// A cancelled request's late answer, or an id the child made up.
		s.log.Debug("dropping a stdio response no stream waits for")
		return
	}
	delete(s.pending, m.idKey)
	st.pending--
	last := st.pending == 0
	if last {
		s.detachLocked(st)
	}
	s.mu.Unlock()
	s.send1(st, m.line)
	if last {
		close(st.ch)
	}
}

// routeUnsolicited sends m to the POST stream of the request it reports
// progress on, else the oldest open POST stream, else the GET stream, else
// holds it for the next GET (basic/transports §Sending Messages to the
// Server and §Listening for Messages from the Server). A stdio child cannot
// say which request a message belongs to, so an open POST stream is the
// best guess for a sampling or elicitation request made during a tool call,
// and the only way to reach a client that never opens a GET stream.
func (s *session) routeUnsolicited(m childMsg) {
	for {
		s.mu.Lock()
		st := s.progress[m.progress]
		if st == nil && len(s.posts) > 0 {
			st = s.posts[0]
		}
		if st == nil {
			st = s.get
		}
		if st == nil {
			s.holdLocked(m.line)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if s.send1(st, m.line) {
			return
		}
		select {
		case <-s.dying:
			return
		default: // st closed meanwhile and is detached: pick again
		}
	}
}

// send1 waits until st takes msg, st is closed, or the session ends. The
// wait is the backpressure that stops a slow client's child, not others.
func (s *session) send1(st *eventStream, msg line) bool {
	select {
	case st.ch <- msg:
		return true
	case <-st.gone:
		return false
	case <-s.dying:
		return false
	}
}

func (s *session) holdLocked(msg line) {
	s.backlog = append(s.backlog, msg)
	s.backlogSize += len(msg)
	dropped := 0
	for len(s.backlog) > backlogMessages || (len(s.backlog) > 1 && s.backlogSize > 2*s.b.maxMsg) {
		s.backlogSize -= len(s.backlog[0])
		s.backlog[0] = nil
		s.backlog = s.backlog[1:]
		dropped++
	}
	if dropped > 0 {
		s.log.Warn("dropping stdio messages held for a GET stream nobody opened", "dropped", dropped)
	}
}

// endStreams ends every open stream once stdout is done: no response can
// come any more. The session will not open new ones.
func (s *session) endStreams() {
	s.mu.Lock()
	s.ended = true
	open := s.posts
	if s.get != nil {
		open = append(open, s.get)
	}
	s.posts, s.get = nil, nil
	clear(s.pending)
	clear(s.progress)
	s.mu.Unlock()
	for _, st := range open {
		close(st.ch)
	}
	// A child that closed stdout cannot serve the session; end it.
	s.terminate(reasonStdout)
}

// readStderr logs each stderr line, truncated, tagged with the upstream and
// session by s.log: the operator's only view into a failing child.
func (s *session) readStderr(f *os.File, done chan<- struct{}) {
	defer close(done)
	defer f.Close()
	lr := newLineReader(f, stderrLineBytes)
	for {
		l, long, err := lr.next()
		if err != nil {
			if err != io.EOF {
				s.log.Debug("stdio child stderr read ended", "err", err)
			}
			return
		}
		s.log.Info("stdio child stderr", "line", string(l), "truncated", long)
	}
}
