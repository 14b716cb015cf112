package clientmeta

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestCacheTTL(t *testing.T) {
	for _, tt := range []struct {
		header []string
		want   time.Duration
	}{
		{nil, DefaultTTL},
		{[]string{"public"}, DefaultTTL},
		{[]string{"max-age=600"}, 10 * time.Minute},
		{[]string{"public, MAX-AGE=7200"}, 2 * time.Hour},
		{[]string{`max-age="600"`}, 10 * time.Minute},
		{[]string{"max-age=60"}, MinTTL},
		{[]string{"max-age=0"}, MinTTL},
		{[]string{"max-age=-5"}, MinTTL},
		{[]string{"max-age=soon"}, MinTTL},
		{[]string{"max-age=99999999999999999999"}, MaxTTL}, // RFC 9111 §1.2.2: the largest age
		{[]string{"max-age=999999"}, MaxTTL},
		{[]string{"no-cache"}, MinTTL},
		{[]string{"no-cache", "max-age=7200"}, MinTTL},
		{[]string{"max-age=7200", "no-store"}, 0},
		{[]string{"private, no-store"}, 0},
	} {
		h := http.Header{"Cache-Control": tt.header}
		if got := cacheTTL(h); got != tt.want {
			t.Errorf("cacheTTL(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestFetchCachesPerCacheControl(t *testing.T) {
	for _, tt := range []struct {
		cc  string
		ttl time.Duration // 0: not cached
	}{
		{"", DefaultTTL},
		{"max-age=600", 10 * time.Minute},
		{"max-age=1", MinTTL},
		{"max-age=31536000", MaxTTL},
		{"no-store", 0},
	} {
		t.Run(tt.cc, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.cc != "" {
					w.Header().Set("Cache-Control", tt.cc)
				}
				serveDoc(nil)(w, r)
			})
			id := e.url(trustedName, "/c")
			fetch := func(wantHits int64) {
				t.Helper()
				if _, _, err := e.f.Fetch(context.Background(), id); err != nil {
					t.Fatal(err)
				}
				if got := e.hits.Load(); got != wantHits {
					t.Fatalf("server hits = %d, want %d", got, wantHits)
				}
			}
			_, exp, err := e.f.Fetch(context.Background(), id)
			if err != nil || !exp.Equal(e.clock.Now().Add(tt.ttl)) {
				t.Fatalf("expiry %v, err %v; want now+%v", exp, err, tt.ttl)
			}
			if tt.ttl == 0 {
				fetch(2) // no-store: every call fetches
				return
			}
			e.clock.Advance(tt.ttl - time.Second)
			fetch(1)
			e.clock.Advance(time.Second)
			fetch(2)
		})
	}
}

func TestFetchNegativeCache(t *testing.T) {
	var mu sync.Mutex
	failing := true
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		serveDoc(nil)(w, r)
	})
	id := e.url(trustedName, "/c")
	if _, _, err := e.f.Fetch(context.Background(), id); !errors.Is(err, ErrFetch) {
		t.Fatalf("err = %v", err)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	e.clock.Advance(FailureTTL - time.Second)
	if _, _, err := e.f.Fetch(context.Background(), id); !errors.Is(err, ErrFetch) || e.hits.Load() != 1 {
		t.Fatalf("within FailureTTL: err = %v, hits = %d; want the remembered failure", err, e.hits.Load())
	}
	e.clock.Advance(time.Second)
	if _, _, err := e.f.Fetch(context.Background(), id); err != nil || e.hits.Load() != 2 {
		t.Fatalf("after FailureTTL: err = %v, hits = %d; want a new fetch", err, e.hits.Load())
	}
}

// blockingEnv serves documents only after release is called, and reports
// each request on entered. Cleanup releases too, so a failing test does
// not leave the server's Close waiting on a handler.
func blockingEnv(t *testing.T) (e *env, entered chan struct{}, release func()) {
	entered, gate := make(chan struct{}, 16), make(chan struct{})
	e = newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-gate
		serveDoc(nil)(w, r)
	})
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	return e, entered, release
}

func TestFetchCoalescesConcurrentFetches(t *testing.T) {
	e, entered, release := blockingEnv(t)
	id := e.url(trustedName, "/c")
	first := e.f.start(context.Background(), id)
	<-entered // the fetch is now in flight
	for range 3 {
		if c := e.f.start(context.Background(), id); c != first {
			t.Fatal("a second caller started its own fetch")
		}
	}
	release()
	<-first.done
	if first.err != nil || e.hits.Load() != 1 {
		t.Fatalf("err = %v, hits = %d", first.err, e.hits.Load())
	}
}

// One caller giving up must not fail the fetch the others wait for.
func TestFetchSurvivesACallerGivingUp(t *testing.T) {
	e, entered, release := blockingEnv(t)
	id := e.url(trustedName, "/c")
	ctx, cancel := context.WithCancel(context.Background())
	c := e.f.start(ctx, id)
	<-entered
	cancel()
	if _, _, err := e.f.Fetch(ctx, id); !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled caller got %v", err)
	}
	release()
	<-c.done
	if c.err != nil {
		t.Fatalf("the shared fetch failed with the first caller: %v", c.err)
	}
}

func TestFetchConcurrentCallers(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			id := e.url(trustedName, "/c"+strconv.Itoa(i%4))
			if _, _, err := e.f.Fetch(context.Background(), id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Four URLs, each fetched once: later callers joined the flight or
	// found the result cached.
	if got := e.hits.Load(); got != 4 {
		t.Fatalf("server hits = %d, want 4", got)
	}
}

func TestFetchCacheIsBounded(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	e.f.MaxEntries = 2
	for i, path := range []string{"/a", "/b", "/c"} {
		e.clock.Advance(time.Second) // distinct expiries: /a expires first
		if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, path)); err != nil {
			t.Fatal(err)
		}
		if n := len(e.f.cache); n > 2 || n != min(i+1, 2) {
			t.Fatalf("cache holds %d entries", n)
		}
	}
	if _, ok := e.f.cache[e.url(trustedName, "/a")]; ok {
		t.Fatal("the entry expiring soonest was not the one evicted")
	}
	_, _, _ = e.f.Fetch(context.Background(), e.url(trustedName, "/c"))
	if e.hits.Load() != 3 {
		t.Fatal("the newest entry was evicted")
	}
}

func TestFetchReturnsACopy(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	id := e.url(trustedName, "/c")
	m, _, _ := e.f.Fetch(context.Background(), id)
	m.RedirectURIs[0] = "https://evil.example/cb"
	again, _, err := e.f.Fetch(context.Background(), id)
	if err != nil || again.RedirectURIs[0] != "http://127.0.0.1/cb" {
		t.Fatalf("the cached document changed: %q, %v", again.RedirectURIs, err)
	}
}
