package session

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
)

func TestIdleTimeout(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.IdleTimeout = time.Hour })
	s, c := f.login(t, "local:ann")
	f.clock.Advance(time.Hour) // expiring exactly now is still live
	if !f.current(c) {
		t.Fatal("session rejected at its idle deadline")
	}
	f.clock.Advance(time.Hour + time.Second) // an hour since that touch
	if f.current(c) {
		t.Fatal("idle session accepted")
	}
	if f.stored(t, s.ID) {
		t.Fatal("idle session record kept")
	}
	if got := f.log.reasons(audit.SessionTerminated); !slices.Equal(got, []string{reasonIdle}) {
		t.Fatalf("terminations = %v, want [idle_timeout]", got)
	}
}

// Use slides the idle deadline; the absolute deadline does not move.
func TestUseSlidesIdleButNotAbsoluteTimeout(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.IdleTimeout = 8 * time.Hour; o.AbsoluteTimeout = 24 * time.Hour })
	s, c := f.login(t, "local:ann")
	for range 4 {
		f.clock.Advance(6 * time.Hour)
		if !f.current(c) {
			t.Fatalf("busy session rejected at %v", f.clock.Now().Sub(t0))
		}
	}
	f.clock.Advance(time.Second) // 24h and 1s after login, touched a second ago
	if f.current(c) {
		t.Fatal("session accepted past its absolute timeout")
	}
	if f.stored(t, s.ID) {
		t.Fatal("expired session record kept")
	}
	if got := f.log.reasons(audit.SessionTerminated); !slices.Equal(got, []string{reasonExpired}) {
		t.Fatalf("terminations = %v, want [expired]", got)
	}
}

// updateCounter counts UpdateBrowserSession calls: the writes Current
// costs.
type updateCounter struct {
	storage.BrowserSessionStore
	updates atomic.Int32
}

func (u *updateCounter) UpdateBrowserSession(ctx context.Context, id string, fn func(storage.BrowserSession) (storage.BrowserSession, error)) error {
	u.updates.Add(1)
	return u.BrowserSessionStore.UpdateBrowserSession(ctx, id, fn)
}

// Current writes LastSeenAt at most once a minute, however many requests.
func TestTouchWritesAtMostOncePerMinute(t *testing.T) {
	counter := &updateCounter{}
	f := newFixture(t, func(o *Options) { counter.BrowserSessionStore = o.Store; o.Store = counter })
	s, c := f.login(t, "local:ann")
	for range 59 {
		f.clock.Advance(time.Second)
		if !f.current(c) {
			t.Fatal("live session rejected")
		}
	}
	if n := counter.updates.Load(); n != 0 {
		t.Fatalf("%d writes in the first minute, want 0", n)
	}
	f.clock.Advance(time.Second)
	got, ok := f.m.Current(request(firefox, c))
	stored, err := f.store.GetBrowserSession(t.Context(), s.ID)
	want := t0.Add(time.Minute)
	if !ok || err != nil || counter.updates.Load() != 1 || !stored.LastSeenAt.Equal(want) ||
		!got.LastSeenAt.Equal(want) || !got.IdleExpiresAt.Equal(want.Add(DefaultIdleTimeout)) {
		t.Fatalf("after a minute: %d writes, stored %+v, returned %+v; want one write at %v",
			counter.updates.Load(), stored, got, want)
	}
}

func TestUserAgentBinding(t *testing.T) {
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/140.0 Safari/537.36"
	f := newFixture(t, func(o *Options) { o.BindUserAgent = true })
	s, c := f.login(t, "local:ann") // logged in with firefox
	if _, ok := f.m.Current(request(firefox, c)); !ok {
		t.Fatal("same User-Agent rejected")
	}
	if _, ok := f.m.Current(request(chrome, c)); ok {
		t.Fatal("cookie replayed with another User-Agent accepted")
	}
	if f.stored(t, s.ID) {
		t.Fatal("a session seen from two User-Agents is kept")
	}
	if _, ok := f.m.Current(request(firefox, c)); ok {
		t.Fatal("session still usable from the original browser after the mismatch")
	}
	if got := f.log.reasons(audit.SessionTerminated); !slices.Equal(got, []string{reasonUserAgent}) {
		t.Fatalf("terminations = %v, want [user_agent_mismatch]", got)
	}
}

func TestUserAgentNotBoundByDefault(t *testing.T) {
	f := newFixture(t, nil)
	s, c := f.login(t, "local:ann")
	if s.UserAgentHash != nil {
		t.Fatalf("UserAgentHash = %x without BindUserAgent", s.UserAgentHash)
	}
	if _, ok := f.m.Current(request("curl/8.14", c)); !ok {
		t.Fatal("changed User-Agent rejected without BindUserAgent")
	}
}
