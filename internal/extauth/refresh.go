package extauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// fetchTimeout bounds a fetch started by a request. It runs detached from
// that request's context (others may be waiting on it), so it needs its
// own limit even when the HTTP client has none.
const fetchTimeout = 30 * time.Second

// errThrottled: a request-triggered fetch was refused because the last one
// started less than MinRefetch ago.
var errThrottled = errors.New("refetch throttled (MinRefetch)")

// fetchState makes fetches single-flight and rate limited.
type fetchState struct {
	mu       sync.Mutex
	inflight *fetchCall
	tried    bool
	last     time.Time // start of the last fetch, on the injected clock
	lastErr  error     // outcome of the last fetch
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// refetch runs discovery (until it once succeeds) and fetches the JWKS.
// One fetch at a time: a caller arriving while one is in flight waits for
// its outcome instead of starting another. Unless forced (the background
// refresh), a fetch starts only if the last one started at least
// MinRefetch ago: this is what keeps a flood of tokens with made-up kids,
// or of requests while the AS is down, from becoming a flood of requests
// to the AS.
func (v *Verifier) refetch(ctx context.Context, force bool) error {
	f := &v.fetch
	f.mu.Lock()
	if c := f.inflight; c != nil {
		f.mu.Unlock()
		return c.wait(ctx)
	}
	now := v.opts.Now()
	if !force && f.tried && now.Sub(f.last) < v.opts.MinRefetch {
		err := f.lastErr
		f.mu.Unlock()
		if err != nil {
			return fmt.Errorf("%w; last attempt: %w", errThrottled, err)
		}
		return errThrottled
	}
	c := &fetchCall{done: make(chan struct{})}
	f.inflight, f.tried, f.last = c, true, now
	f.mu.Unlock()

	fctx, cancel := ctx, context.CancelFunc(func() {})
	if !force {
		// Waiters share this fetch: one client going away must not fail it
		// for the others.
		fctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	}
	c.err = v.load(fctx)
	cancel()

	f.mu.Lock()
	f.inflight, f.lastErr = nil, c.err
	f.mu.Unlock()
	close(c.done)
	return c.err
}

func (c *fetchCall) wait(ctx context.Context) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// load discovers the endpoints if not yet known and fetches the JWKS. On
// failure the keys already loaded stay in use: an AS that is briefly down
// must not take the resource down with it.
func (v *Verifier) load(ctx context.Context) error {
	ep := v.ep.Load()
	if ep == nil {
		e, err := v.discover(ctx)
		if err != nil {
			v.warn(ctx, "extauth: discovery failed", err)
			return err
		}
		ep = &e
		v.ep.Store(ep)
	}
	if ep.jwks == "" {
		return nil // introspection only
	}
	ks, err := v.fetchJWKS(ctx, ep.jwks)
	if err != nil {
		v.warn(ctx, "extauth: JWKS fetch failed; keeping the keys loaded", err)
		return err
	}
	if old := v.keys.Swap(ks); old == nil || !slices.Equal(kids(old), kids(ks)) {
		v.opts.Log.Info("extauth: keys loaded", "issuer", v.opts.Issuer, "kids", kids(ks))
	}
	return nil
}

// warn logs a failed fetch, except one cut short by Run's shutdown.
func (v *Verifier) warn(ctx context.Context, msg string, err error) {
	if ctx.Err() == nil {
		v.opts.Log.Warn(msg, "issuer", v.opts.Issuer, "err", err)
	}
}

func kids(ks *keySet) []string {
	out := make([]string, 0, len(ks.all))
	for _, k := range ks.all {
		out = append(out, k.KeyID)
	}
	return out
}

// refresh is one background refresh: a fetch that ignores MinRefetch.
func (v *Verifier) refresh(ctx context.Context) error { return v.refetch(ctx, true) }

// Run refreshes the keys every RefreshEvery until ctx is done, starting
// with an immediate fetch. While no keys were ever loaded it retries every
// MinRefetch instead, so a gateway started with the AS down becomes ready
// soon after the AS returns.
func (v *Verifier) Run(ctx context.Context) {
	for {
		wait := v.opts.RefreshEvery
		if err := v.refresh(ctx); err != nil && !v.Ready() {
			wait = min(wait, v.opts.MinRefetch)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
