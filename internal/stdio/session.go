package stdio

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"
)

// session is one MCP session and the one child process that serves it.
type session struct {
	b      *Bridge
	id     string
	owner  string // Options.Owner of the initialize: whose MaxPerOwner slot it holds
	log    *slog.Logger
	cmd    *exec.Cmd
	pid    int // also the process group's id (Setpgid)
	stdin  *os.File
	writes chan []byte   // whole POST bodies, one line per message, in arrival order
	dying  chan struct{} // closed once the session ends: termination began or the child exited
	dieMu  sync.Once

	mu          sync.Mutex
	ended       bool // stdout is done: no new streams
	terminating bool
	reaped      bool   // the leader is reaped, so its pid may be reused: never signal again
	reason      string // why the bridge ended it, if it did
	pending     map[string]*eventStream
	progress    map[string]*eventStream
	posts       []*eventStream // open POST streams, oldest first
	get         *eventStream
	backlog     []line
	backlogSize int
	active      int // open streams and POSTs in progress
	requests    int // requests begun, the initialize included
	idleSince   time.Time
	idle        *time.Timer
	kill        *time.Timer
}

// writeQueue bounds the bodies waiting for a child that is not reading its
// stdin; POSTs beyond it wait (for as long as their clients do).
const writeQueue = 16

// startSession reserves a process slot of owner's and starts a child for a
// new MCP session.
func (b *Bridge) startSession(owner string) (*session, error) {
	if err := b.reserve(owner); err != nil {
		return nil, err
	}
	s, err := b.spawn(owner)
	if err != nil {
		b.unreserve(owner)
		return nil, err
	}
	if !b.register(s) {
		return nil, errClosed
	}
	return s, nil
}

func (b *Bridge) spawn(owner string) (*session, error) {
	var p [6]*os.File // stdin r/w, stdout r/w, stderr r/w
	for i := 0; i < 6; i += 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closeFiles(p[:i]...)
			return nil, err
		}
		p[i], p[i+1] = r, w
	}
	cmd := exec.Command(b.path)
	cmd.Args = slices.Clone(b.argv)
	cmd.Env = b.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p[0], p[3], p[5]
	cmd.SysProcAttr = sysProcAttr()
	err := cmd.Start()
	closeFiles(p[0], p[3], p[5]) // the child's ends: the parent keeps none
	if err != nil {
		closeFiles(p[1], p[2], p[4])
		return nil, err
	}
	id := newSessionID()
	s := &session{
		b: b, id: id, owner: owner, cmd: cmd, pid: cmd.Process.Pid, stdin: p[1],
		// The log names the session by a digest: the ID itself is a bearer
		// of the session and does not belong in logs.
		log:      b.log.With("session", logTag(id), "pid", cmd.Process.Pid),
		writes:   make(chan []byte, writeQueue),
		dying:    make(chan struct{}),
		pending:  make(map[string]*eventStream),
		progress: make(map[string]*eventStream),
	}
	s.idleSince = time.Now()
	s.idle = time.AfterFunc(b.init, s.onIdle)
	s.log.Info("stdio child started")
	outDone, errDone := make(chan struct{}), make(chan struct{})
	go s.writeLoop()
	go s.readStdout(p[2], outDone)
	go s.readStderr(p[4], errDone)
	go s.reap(p[2], p[4], outDone, errDone)
	return s, nil
}

// newSessionID is 256 bits from crypto/rand: whoever holds the ID can use
// the session, so it must not be guessable (basic/transports §Session
// Management: "globally unique and cryptographically secure").
func newSessionID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func logTag(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}

func closeFiles(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// deliver sends a POST body to the child. Requests get a stream that is
// registered before anything is written, so no response can arrive first.
func (s *session) deliver(req *http.Request, body parsedBody) (*http.Response, error) {
	ctx := req.Context()
	if body.requests() == 0 {
		if err := s.begin(); err != nil {
			return nil, err
		}
		defer s.end()
		if err := s.send(ctx, body.joined()); err != nil {
			return nil, err
		}
		return &http.Response{
			StatusCode: http.StatusAccepted, Status: status(http.StatusAccepted),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Body: http.NoBody, Request: req,
		}, nil
	}
	st, err := s.openPost(ctx, body)
	if err != nil {
		return nil, err
	}
	if err := s.send(ctx, body.joined()); err != nil {
		st.Close()
		return nil, err
	}
	return eventStreamResponse(req, st), nil
}

// send queues data for the child's stdin.
func (s *session) send(ctx context.Context, data []byte) error {
	select {
	case s.writes <- data:
		return nil
	case <-s.dying:
		return errGone
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeLoop is the only writer of stdin, so bodies never interleave.
func (s *session) writeLoop() {
	for {
		select {
		case data := <-s.writes:
			if _, err := s.stdin.Write(data); err != nil {
				s.terminate(reasonStdin)
				return
			}
		case <-s.dying:
			return
		}
	}
}

func (s *session) openPost(ctx context.Context, body parsedBody) (*eventStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closedLocked() {
		return nil, errGone
	}
	// MCP basic/lifecycle: an id is not reused within a session. Refusing
	// one still in flight keeps two requests from racing for one response.
	seen := make(map[string]bool)
	for _, m := range body {
		if m.idKey == "" {
			continue
		}
		if seen[m.idKey] || s.pending[m.idKey] != nil {
			return nil, errDupID
		}
		seen[m.idKey] = true
	}
	st := newEventStream(ctx, s)
	for _, m := range body {
		if m.idKey == "" {
			continue
		}
		s.pending[m.idKey] = st
		st.pending++
		if m.progress != "" {
			s.progress[m.progress] = st
		}
	}
	s.posts = append(s.posts, st)
	s.beginLocked()
	return st, nil
}

// openListen opens the standalone stream; the messages held for it are
// handed over first, in order.
func (s *session) openListen(ctx context.Context) (*eventStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closedLocked() {
		return nil, errGone
	}
	if s.get != nil {
		return nil, errConflict
	}
	st := newEventStream(ctx, s)
	st.queued, s.backlog, s.backlogSize = s.backlog, nil, 0
	s.get = st
	s.beginLocked()
	return st, nil
}

// closeStream detaches st; the router no longer picks it.
func (s *session) closeStream(st *eventStream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detachLocked(st)
	s.endLocked()
}

func (s *session) detachLocked(st *eventStream) {
	s.posts = slices.DeleteFunc(s.posts, func(p *eventStream) bool { return p == st })
	if s.get == st {
		s.get = nil
	}
	for k, v := range s.pending {
		if v == st {
			delete(s.pending, k)
		}
	}
	for k, v := range s.progress {
		if v == st {
			delete(s.progress, k)
		}
	}
}
