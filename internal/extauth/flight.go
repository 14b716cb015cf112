package extauth

import (
	"context"
	"sync"
)

// flights makes introspection single-flight per token: a caller asking
// about a token that is already being asked about waits for that call
// instead of making another, so a burst of requests carrying one token
// (a client retrying, or a flood replaying one garbage token) costs the AS
// one call.
type flights struct {
	mu sync.Mutex
	m  map[[32]byte]*flight // by token hash
}

// flight is one call to the AS. It runs in its own goroutine, detached
// from any one caller's context: one client going away must not fail it
// for the others. Each caller waits for it or for its own context, and the
// last caller to leave cancels it, so a call outlives no one who wants it
// and is bounded by fetchTimeout in any case.
type flight struct {
	done    chan struct{}
	ans     answer // written before done is closed
	waiters int    // guarded by flights.mu
	cancel  context.CancelFunc
}

// join returns the flight for key, starting one if none is in flight, or
// the cached answer when a flight ended since the caller looked.
func (v *Verifier) join(ctx context.Context, key [32]byte, token string) (*flight, answer, bool) {
	fs := &v.intro
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f := fs.m[key]; f != nil {
		f.waiters++
		return f, answer{}, false
	}
	// A flight caches its answer before it leaves the map, so checking
	// again here, under the lock, closes the window in which a caller
	// would miss both and ask the AS a second time.
	if a, ok := v.cached(key); ok {
		return nil, a, true
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	f := &flight{done: make(chan struct{}), waiters: 1, cancel: cancel}
	fs.m[key] = f
	go v.fly(fctx, key, token, f)
	return f, answer{}, false
}

// fly makes the call, caches its answer and releases the waiters.
func (v *Verifier) fly(ctx context.Context, key [32]byte, token string, f *flight) {
	defer f.cancel()
	f.ans.claims, f.ans.err = v.askAS(ctx, token)
	v.remember(key, f.ans)
	v.intro.mu.Lock()
	if v.intro.m[key] == f {
		delete(v.intro.m, key)
	}
	v.intro.mu.Unlock()
	close(f.done)
}

// leave drops a caller whose context ended. The last one to leave cancels
// the flight and takes it out of the map, so the next caller starts afresh
// instead of joining a call that is being abandoned.
func (v *Verifier) leave(key [32]byte, f *flight) {
	fs := &v.intro
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m[key] != f {
		return // it ended meanwhile
	}
	if f.waiters--; f.waiters == 0 {
		delete(fs.m, key)
		f.cancel()
	}
}
