package extauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gate holds every introspection call at the fake AS until opened, and
// counts the calls in flight there.
type gate struct {
	open     func()
	opened   chan struct{}
	inflight atomic.Int64
	peak     atomic.Int64
}

// holdIntrospection installs a gate on as; it is opened at the latest when
// the test ends, so no handler outlives the server.
func holdIntrospection(t *testing.T, as *fakeAS) *gate {
	g := &gate{opened: make(chan struct{})}
	g.open = sync.OnceFunc(func() { close(g.opened) })
	hold := func() {
		n := g.inflight.Add(1)
		for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
		}
		<-g.opened
		g.inflight.Add(-1)
	}
	as.introGate.Store(&hold)
	t.Cleanup(g.open) // runs before the server's Close, registered earlier
	return g
}

// eventually polls cond, which reads state that has no hook to wait on
// (callers queued inside the verifier), until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// flightState reports the calls in flight in v and their waiters.
func flightState(v *Verifier) (flights, waiters int) {
	v.intro.mu.Lock()
	defer v.intro.mu.Unlock()
	for _, f := range v.intro.m {
		waiters += f.waiters
	}
	return len(v.intro.m), waiters
}

// verifyAll runs Verify for each token concurrently and returns the errors.
func verifyAll(v *Verifier, tokens []string) <-chan error {
	errs := make(chan error, len(tokens))
	for _, tok := range tokens {
		go func() {
			_, err := v.Verify(context.Background(), tok)
			errs <- err
		}()
	}
	return errs
}

// A flood replaying one garbage token costs the AS one call: concurrent
// callers share it, later ones are answered by the negative cache.
func TestGarbageFloodOneToken(t *testing.T) {
	as, v, _ := introAS(t, nil, nil)
	g := holdIntrospection(t, as)
	tokens := make([]string, 200)
	for i := range tokens {
		tokens[i] = "garbage"
	}
	errs := verifyAll(v, tokens)
	eventually(t, "200 callers on one call", func() bool {
		n, w := flightState(v)
		return n == 1 && w == 200 && g.inflight.Load() == 1
	})
	g.open()
	for range tokens {
		wantInvalid(t, <-errs, "not active", "garbage")
	}
	for range 200 {
		_, err := v.Verify(context.Background(), "garbage")
		wantInvalid(t, err, "not active", "garbage")
	}
	wantIntro(t, as, 1)
}

// A flood of distinct garbage tokens, which no cache absorbs, has at most
// MaxConcurrent calls at the AS at once; the rest wait for a slot.
func TestGarbageFloodDistinctTokens(t *testing.T) {
	as, v, _ := introAS(t, nil, nil)
	g := holdIntrospection(t, as)
	tokens := make([]string, 200)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("garbage-%d", i)
	}
	errs := verifyAll(v, tokens)
	eventually(t, "200 calls started, 16 at the AS", func() bool {
		n, _ := flightState(v)
		return n == 200 && g.inflight.Load() == DefaultMaxConcurrentIntrospections
	})

	// A caller that gives up while waiting for a slot gets ErrUnavailable,
	// not a verdict on its token, and leaves nothing behind.
	ctx, cancel := context.WithCancel(context.Background())
	late := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, "late"); late <- err }()
	eventually(t, "the late caller to queue", func() bool { n, _ := flightState(v); return n == 201 })
	cancel()
	if err := <-late; !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("caller gone while waiting for a slot: want ErrUnavailable, got %v", err)
	}
	if n, _ := flightState(v); n != 200 {
		t.Fatalf("%d calls in flight after the late caller left, want 200", n)
	}

	g.open()
	for range tokens {
		if err := <-errs; !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("garbage token: %v", err)
		}
	}
	if p := g.peak.Load(); p > DefaultMaxConcurrentIntrospections {
		t.Fatalf("%d introspection calls at the AS at once, limit %d", p, DefaultMaxConcurrentIntrospections)
	}
	wantIntro(t, as, 200)
}

func TestMaxConcurrentOption(t *testing.T) {
	as, v, _ := introAS(t, nil, func(o *Options) { o.Introspection.MaxConcurrent = 2 })
	g := holdIntrospection(t, as)
	errs := verifyAll(v, []string{"a", "b", "c", "d"})
	eventually(t, "4 calls started, 2 at the AS", func() bool {
		n, _ := flightState(v)
		return n == 4 && g.inflight.Load() == 2
	})
	g.open()
	for range 4 {
		<-errs
	}
	if p := g.peak.Load(); p != 2 {
		t.Fatalf("peak %d calls at the AS, want 2", p)
	}
}

// The caller that started a call going away does not fail it for those
// who joined it; the last one going away abandons it.
func TestSharedCallOutlivesItsStarter(t *testing.T) {
	answers := map[string]map[string]any{}
	as, v, _ := introAS(t, answers, nil)
	answers["opaque-ok"] = oktaIntrospection(as, t0.Add(time.Hour))
	g := holdIntrospection(t, as)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, "opaque-ok"); first <- err }()
	eventually(t, "the call to reach the AS", func() bool { return g.inflight.Load() == 1 })
	second := verifyAll(v, []string{"opaque-ok"})
	eventually(t, "a second caller to join", func() bool { _, w := flightState(v); return w == 2 })
	cancel()
	if err := <-first; !errors.Is(err, ErrUnavailable) {
		t.Fatalf("starter gone: want ErrUnavailable, got %v", err)
	}
	g.open()
	if err := <-second; err != nil {
		t.Fatalf("joined caller: %v", err)
	}
	wantIntro(t, as, 1)

	// Alone, a caller going away abandons the call: no flight is left for
	// the next caller to join.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	g2 := holdIntrospection(t, as)
	go func() { _, err := v.Verify(ctx, "opq_alone"); first <- err }()
	eventually(t, "the lone call to reach the AS", func() bool { return g2.inflight.Load() == 1 })
	cancel()
	if err := <-first; !errors.Is(err, ErrUnavailable) {
		t.Fatalf("lone caller gone: want ErrUnavailable, got %v", err)
	}
	if n, _ := flightState(v); n != 0 {
		t.Fatalf("%d flights left after their only caller left", n)
	}
}

// A caller that missed the cache just as a call ended finds its answer
// under the flights lock instead of asking the AS again.
func TestJoinRechecksCache(t *testing.T) {
	as, v, clk := introAS(t, nil, nil)
	key := [32]byte{1}
	v.nope.put(key, refusal{invalid("introspection: not active")}, clk.Now().Add(time.Minute), clk.Now())
	f, a, ok := v.join(context.Background(), key, "opq_tok")
	if !ok || f != nil || !errors.Is(a.err, ErrInvalidToken) {
		t.Fatalf("join with a cached refusal: flight %v, answer %v, ok %v", f, a, ok)
	}
	wantIntro(t, as, 0)
}

// Claims handed out, fresh or cached, share no slice with the cache or
// with another caller.
func TestIntrospectedClaimsNotAliased(t *testing.T) {
	answers := map[string]map[string]any{}
	as, v, _ := introAS(t, answers, nil)
	answers["opaque-ok"] = oktaIntrospection(as, t0.Add(time.Hour))
	for range 3 {
		c := mustVerify(t, v, "opaque-ok")
		if c.Scopes[0] != "mcp:read" || c.Audience[0] != "api://mcp" {
			t.Fatalf("claims changed by an earlier caller: %+v", c)
		}
		c.Scopes[0], c.Audience[0] = "admin", "other"
	}
	wantIntro(t, as, 1)

	// Two callers sharing one call.
	answers["opaque-2"] = oktaIntrospection(as, t0.Add(time.Hour))
	g := holdIntrospection(t, as)
	got := make(chan Claims, 2)
	for range 2 {
		go func() { c, _ := v.Verify(context.Background(), "opaque-2"); got <- c }()
	}
	eventually(t, "two callers on one call", func() bool { _, w := flightState(v); return w == 2 })
	g.open()
	a, b := <-got, <-got
	a.Scopes[0] = "admin"
	if b.Scopes[0] != "mcp:read" {
		t.Fatalf("one caller's claims changed by another's: %v", b.Scopes)
	}
	wantIntro(t, as, 2)
}

// Defaults are applied to a copy: the caller's Introspection is left as
// it was (it may be shared by several verifiers).
func TestIntrospectionDefaultsCopy(t *testing.T) {
	in := &Introspection{ClientID: "gateway", ClientSecret: "s3cret"}
	v, err := New(Options{Issuer: "https://as.example.com", Audience: "a", Introspection: in})
	if err != nil {
		t.Fatal(err)
	}
	if in.NegativeTTL != 0 || in.MaxConcurrent != 0 {
		t.Fatalf("caller's options changed: %+v", in)
	}
	if got := v.opts.Introspection; got.NegativeTTL != DefaultNegativeTTL || got.MaxConcurrent != DefaultMaxConcurrentIntrospections || cap(v.slots) != DefaultMaxConcurrentIntrospections {
		t.Fatalf("defaults: %+v, %d slots", got, cap(v.slots))
	}
}
