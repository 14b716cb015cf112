package stdio

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultIdleTimeout     = 10 * time.Minute
	DefaultInitTimeout     = 30 * time.Second
	DefaultMaxProcesses    = 32
	DefaultMaxMessageBytes = 4 << 20
	DefaultTerminateGrace  = 2 * time.Second
)

// Options configure a Bridge.
type Options struct {
	// Name identifies the upstream in logs.
	Name string
	// Command is the child's argv, run without a shell. Required.
	Command []string
	// Env is the child's whole environment besides PATH and HOME, which are
	// copied from the gateway's; an entry here overrides either.
	Env map[string]string
	// IdleTimeout ends a session's process after this long with no request
	// and no open stream. Default 10m.
	IdleTimeout time.Duration
	// InitTimeout is the idle timeout of a session that has had no request
	// since its initialize (capped at IdleTimeout): a client that sends a
	// bare initialize and walks away holds a process, and a slot of
	// MaxProcesses and of MaxPerOwner, for this long, not for IdleTimeout.
	// Real clients send notifications/initialized at once. Default 30s.
	InitTimeout time.Duration
	// MaxProcesses caps the live children; an initialize beyond it gets
	// 503. Default 32.
	MaxProcesses int
	// Owner names whom a request belongs to (the gateway passes the
	// authenticated subject), so that MaxPerOwner can keep one user from
	// taking every slot of MaxProcesses and locking the others out. It is
	// asked only of an initialize. Default nil: every request has the one
	// owner "".
	Owner func(*http.Request) string
	// MaxPerOwner caps the live children of one owner; an initialize
	// beyond it gets the same 503 as one beyond MaxProcesses. Default
	// max(1, MaxProcesses/4) when Owner is set, MaxProcesses when it is
	// not.
	MaxPerOwner int
	// MaxMessageBytes caps one request body and one line of the child's
	// stdout (a longer line ends the session). Default 4 MiB.
	MaxMessageBytes int
	// TerminateGrace is how long a child's process group has between
	// SIGTERM and SIGKILL. Default 2s.
	TerminateGrace time.Duration
	// Log receives the children's stderr and lifecycle events. Default
	// slog.Default().
	Log *slog.Logger
}

// Bridge is an http.RoundTripper that serves MCP Streamable HTTP requests
// from stdio children, one per MCP session.
type Bridge struct {
	name    string
	path    string   // Command[0] resolved once, so a later PATH change cannot swap it
	argv    []string // Command as configured
	env     []string
	idle    time.Duration
	init    time.Duration // idle timeout until a request follows the initialize
	max     int
	owner   func(*http.Request) string
	perOwn  int
	maxMsg  int
	grace   time.Duration
	log     *slog.Logger
	workers sync.WaitGroup // one per reserved process, done once it is reaped

	mu       sync.Mutex
	sessions map[string]*session
	live     int            // reserved or running processes
	owned    map[string]int // the same, by owner; an owner with none has no entry
	closed   bool
}

var _ http.RoundTripper = (*Bridge)(nil)

// New checks opts and returns a Bridge that has started nothing yet: each
// initialize request starts its own child.
func New(opts Options) (*Bridge, error) {
	if err := platformCheck(); err != nil {
		return nil, err
	}
	if len(opts.Command) == 0 || opts.Command[0] == "" {
		return nil, errors.New("stdio: command is required")
	}
	if opts.IdleTimeout < 0 || opts.InitTimeout < 0 || opts.MaxProcesses < 0 || opts.MaxPerOwner < 0 ||
		opts.MaxMessageBytes < 0 || opts.TerminateGrace < 0 {
		return nil, errors.New("stdio: timeouts, process limits, max message bytes and grace must not be negative")
	}
	env, err := childEnv(opts.Env)
	if err != nil {
		return nil, err
	}
	path, err := exec.LookPath(opts.Command[0])
	if err != nil {
		return nil, fmt.Errorf("stdio: command %q: %w", opts.Command[0], err)
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	maxProcs := orDefault(opts.MaxProcesses, DefaultMaxProcesses)
	owner, perOwner := opts.Owner, maxProcs
	if owner == nil {
		owner = func(*http.Request) string { return "" }
	} else {
		perOwner = max(1, maxProcs/4)
	}
	idle := orDefault(opts.IdleTimeout, DefaultIdleTimeout)
	return &Bridge{
		name:     opts.Name,
		path:     path,
		argv:     slices.Clone(opts.Command),
		env:      env,
		idle:     idle,
		init:     min(idle, orDefault(opts.InitTimeout, DefaultInitTimeout)),
		max:      maxProcs,
		owner:    owner,
		perOwn:   orDefault(opts.MaxPerOwner, perOwner),
		maxMsg:   orDefault(opts.MaxMessageBytes, DefaultMaxMessageBytes),
		grace:    orDefault(opts.TerminateGrace, DefaultTerminateGrace),
		log:      log.With("upstream", opts.Name),
		sessions: make(map[string]*session),
		owned:    make(map[string]int),
	}, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// childEnv is the child's complete environment: env plus the gateway's
// PATH and HOME. Nothing else is inherited, because the gateway's
// environment carries its database password, seal keys and client secrets,
// and a child is third-party code.
func childEnv(env map[string]string) ([]string, error) {
	out := make([]string, 0, len(env)+2)
	for _, k := range []string{"PATH", "HOME"} {
		if _, set := env[k]; set {
			continue
		}
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.Contains(env[k], "\x00") {
			return nil, fmt.Errorf("stdio: invalid environment variable %q", k)
		}
		out = append(out, k+"="+env[k])
	}
	return out, nil
}

// Processes reports the live children, counting one that is starting.
func (b *Bridge) Processes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.live
}

// Close terminates every child's process group and waits until all are
// reaped. Requests after Close get 503. Close is idempotent.
func (b *Bridge) Close() error {
	b.mu.Lock()
	b.closed = true
	all := slices.Collect(maps.Values(b.sessions))
	b.mu.Unlock()
	for _, s := range all {
		s.terminate(reasonClosing)
	}
	b.workers.Wait()
	return nil
}

// reserve claims a process slot for owner. It fails when the bridge is
// closed, at MaxProcesses, the bound that keeps one client from exhausting
// the host by initializing sessions in a loop, or at owner's MaxPerOwner,
// the bound that keeps one user from taking every slot of MaxProcesses and
// so locking out everyone else.
func (b *Bridge) reserve(owner string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return errClosed
	case b.live >= b.max:
		return errTooMany
	case b.owned[owner] >= b.perOwn:
		return errOwnerFull
	}
	b.live++
	b.owned[owner]++
	b.workers.Add(1)
	return nil
}

// unreserve gives back owner's slot once its process is reaped (or never
// ran).
func (b *Bridge) unreserve(owner string) {
	b.mu.Lock()
	b.live--
	if b.owned[owner]--; b.owned[owner] == 0 {
		delete(b.owned, owner)
	}
	b.mu.Unlock()
	b.workers.Done()
}

// register publishes a started session; a Close that raced with its start
// has already snapshotted the map, so the session is ended here instead.
func (b *Bridge) register(s *session) bool {
	b.mu.Lock()
	closed := b.closed
	if !closed {
		b.sessions[s.id] = s
	}
	b.mu.Unlock()
	if closed {
		s.terminate(reasonClosing)
	}
	return !closed
}

func (b *Bridge) lookup(id string) *session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions[id]
}

// forget removes s so that its ID answers 404 from now on.
func (b *Bridge) forget(s *session) {
	b.mu.Lock()
	if b.sessions[s.id] == s {
		delete(b.sessions, s.id)
	}
	b.mu.Unlock()
}

func (b *Bridge) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}
