package session

import (
	"context"
	"net/http"
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

// SPEC SE-1: with BindIPPrefix, a session is usable only from the network
// it logged in from (the /24 of an IPv4 client, the /64 of an IPv6 one): a
// cookie replayed from elsewhere ends the session.
func TestIPPrefixBinding(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.BindIPPrefix = true })
	s, c := f.login(t, "local:ann") // httptest requests come from 192.0.2.1
	if s.IPPrefix != "192.0.2.0/24" {
		t.Fatalf("IPPrefix = %q, want 192.0.2.0/24", s.IPPrefix)
	}
	from := func(addr string) *http.Request {
		r := request(firefox, c)
		r.RemoteAddr = addr
		return r
	}
	if _, ok := f.m.Current(from("192.0.2.200:5555")); !ok {
		t.Fatal("same /24 rejected")
	}
	if _, ok := f.m.Current(from("198.51.100.7:5555")); ok {
		t.Fatal("cookie replayed from another network accepted")
	}
	if f.stored(t, s.ID) {
		t.Fatal("a session seen from two networks is kept")
	}
	if got := f.log.reasons(audit.SessionTerminated); !slices.Equal(got, []string{reasonIPPrefix}) {
		t.Fatalf("terminations = %v, want [ip_prefix_mismatch]", got)
	}
}

func TestIPPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":          "203.0.113.0/24",
		"::ffff:203.0.113.9":   "203.0.113.0/24",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"not an address":       "",
		"":                     "",
	} {
		if got := ipPrefix(in); got != want {
			t.Errorf("ipPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIPPrefixNotBoundByDefault(t *testing.T) {
	f := newFixture(t, nil)
	s, c := f.login(t, "local:ann")
	r := request(firefox, c)
	r.RemoteAddr = "198.51.100.7:5555"
	if _, ok := f.m.Current(r); !ok || s.IPPrefix != "" {
		t.Fatalf("without BindIPPrefix: usable=%v IPPrefix=%q; want usable from anywhere, no prefix stored", ok, s.IPPrefix)
	}
}
