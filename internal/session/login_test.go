package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Session fixation: a cookie in the browser before login, whether an
// attacker planted a value of their choosing or it names a real session,
// is never the one that is authenticated afterwards.
func TestLoginRotatesSessionID(t *testing.T) {
	f := newFixture(t, nil)
	old, oldCookie := f.login(t, "local:mallory")
	planted := &http.Cookie{Name: SessionCookieSecure, Value: newSecret()}
	for name, carried := range map[string]*http.Cookie{"live session": oldCookie, "planted value": planted} {
		s, c := f.login(t, "local:ann", carried)
		if c.Value == carried.Value || s.ID == hashHex(carried.Value) {
			t.Errorf("%s: login kept the carried cookie", name)
		}
		if f.current(carried) || !f.current(c) {
			t.Errorf("%s: carried cookie live=%v, new cookie live=%v; want false, true", name, f.current(carried), f.current(c))
		}
	}
	if f.stored(t, old.ID) {
		t.Fatal("the record behind the carried cookie survived login")
	}
	if got := f.log.reasons(audit.SessionTerminated); !slices.Equal(got, []string{reasonReplaced}) {
		t.Fatalf("terminations = %v, want [replaced]", got)
	}
}

func TestLoginSetsTimesAndIdentity(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.IdleTimeout = time.Hour; o.AbsoluteTimeout = 10 * time.Hour })
	s, _ := f.login(t, "local:ann")
	got, err := f.store.GetBrowserSession(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "local:ann" || got.ProviderID != "local" || !slices.Equal(got.Groups, []string{"dev"}) ||
		!got.CreatedAt.Equal(t0) || !got.LastSeenAt.Equal(t0) || !got.AuthTime.Equal(t0) ||
		!got.IdleExpiresAt.Equal(t0.Add(time.Hour)) || !got.ExpiresAt.Equal(t0.Add(10*time.Hour)) {
		t.Fatalf("stored %+v", got)
	}
	if got := f.log.count(audit.SessionCreated); got != 1 {
		t.Fatalf("session_created events = %d, want 1", got)
	}
	_, err = f.m.Login(t.Context(), httptest.NewRecorder(), request(firefox), storage.BrowserSession{})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Login without subject = %v, want ErrInvalid", err)
	}
}

// The concurrent-session limit evicts the user's oldest sessions and
// leaves other users alone (SPEC SE-1).
func TestMaxPerUserEvictsOldest(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxPerUser = 2 })
	_, bob := f.login(t, "local:bob")
	var cookies []*http.Cookie
	for range 4 {
		f.clock.Advance(time.Minute)
		_, c := f.login(t, "local:ann") // each from a fresh browser
		cookies = append(cookies, c)
	}
	for i, want := range []bool{false, false, true, true} {
		if got := f.current(cookies[i]); got != want {
			t.Errorf("ann's session %d live = %v, want %v", i+1, got, want)
		}
	}
	if !f.current(bob) {
		t.Error("another user's session was evicted")
	}
	if got := f.log.reasons(audit.SessionTerminated); !slices.Equal(got, []string{reasonEvicted, reasonEvicted}) {
		t.Fatalf("terminations = %v, want two evictions", got)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, nil)
	s, c := f.login(t, "local:ann")
	rec := httptest.NewRecorder()
	if err := f.m.Logout(t.Context(), rec, request(firefox, c)); err != nil {
		t.Fatal(err)
	}
	if cleared := onlyCookie(t, rec, c.Name); cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Fatalf("logout cookie %+v, want an empty value with Max-Age=0", cleared)
	}
	if f.stored(t, s.ID) || f.current(c) {
		t.Fatal("session still live after logout")
	}
	if got := f.log.reasons(audit.SessionTerminated); !slices.Equal(got, []string{reasonLogout}) {
		t.Fatalf("terminations = %v, want [logout]", got)
	}
	if err := f.m.Logout(t.Context(), httptest.NewRecorder(), request(firefox, c)); err != nil {
		t.Fatalf("second logout = %v, want nil", err)
	}
	if got := f.log.count(audit.SessionTerminated); got != 1 {
		t.Fatalf("a second logout was audited too: %d terminations", got)
	}
}

// The kill switch ends every session of one user and only that user's.
func TestRevokeUser(t *testing.T) {
	f := newFixture(t, nil)
	_, a1 := f.login(t, "local:ann")
	_, a2 := f.login(t, "local:ann")
	_, bob := f.login(t, "local:bob")
	n, err := f.m.RevokeUser(t.Context(), "local:ann")
	if err != nil || n != 2 {
		t.Fatalf("RevokeUser = %d, %v; want 2, nil", n, err)
	}
	if f.current(a1) || f.current(a2) || !f.current(bob) {
		t.Fatal("RevokeUser did not end exactly ann's sessions")
	}
	if got := f.log.reasons(audit.SessionTerminated); !slices.Equal(got, []string{reasonRevoked}) {
		t.Fatalf("terminations = %v, want [revoked]", got)
	}
	if _, err := f.m.RevokeUser(t.Context(), ""); !errors.Is(err, ErrInvalid) || !f.current(bob) {
		t.Fatalf("RevokeUser(\"\") = %v, want ErrInvalid and nothing deleted", err)
	}
}

// Sessions created in the same instant sort by ID, so the new one may come
// first in the store's list; it must still be the one kept.
func TestMaxPerUserKeepsNewSessionOnClockTie(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxPerUser = 1 })
	for i := range 20 {
		_, c := f.login(t, "local:ann")
		if !f.current(c) {
			t.Fatalf("login %d: the new session was evicted", i+1)
		}
	}
}
