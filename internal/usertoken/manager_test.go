package usertoken

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
	"github.com/mcpgate/mcpgate/internal/storage/sqlstore"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
	"github.com/mcpgate/mcpgate/internal/testenv/pgtest"
)

const (
	subject  = "corp:alice"
	provider = "corp"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func testRing(t *testing.T) *seal.Keyring {
	t.Helper()
	k, err := seal.New([]seal.Key{{ID: "k1", Secret: bytes.Repeat([]byte{7}, seal.KeySize)}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newManager(t *testing.T, st Store, clk *clock.Clock, conns ...login.Connector) *Manager {
	t.Helper()
	m, err := New(Options{Store: st, Seal: testRing(t), Connectors: conns, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// backends are the stores two instances can share: the memory store
// (instances in one process) and both SQL backends.
func backends(t *testing.T) map[string]func(t *testing.T) Store {
	return map[string]func(t *testing.T) Store{
		"memory": func(t *testing.T) Store { return memory.New() },
		"sqlite": func(t *testing.T) Store {
			s, err := sqlstore.Open(t.Context(), "sqlite", filepath.Join(t.TempDir(), "gate.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) Store {
			dsn := pgtest.DSN(t, "mcpgate_usertoken_")
			s, err := sqlstore.Open(t.Context(), "postgres", dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// TestConcurrentRefreshOnce is the acceptance test of SPEC ID-5's refresh
// rule: 20 simultaneous UserToken calls for a user whose upstream token has
// expired cause exactly one Refresh at a provider that rotates refresh
// tokens, whether the callers share one instance or are split over two
// instances sharing a store. No caller sees an error (in particular no
// invalid_grant from a second redemption) and all get the new token.
func TestConcurrentRefreshOnce(t *testing.T) {
	for name, open := range backends(t) {
		for _, instances := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/%d-instances", name, instances), func(t *testing.T) {
				st := open(t)
				clk := clock.New(t0)
				p := newFakeProvider(clk.Now)
				conn := &fakeConn{id: provider, hash: []byte("cfg-1"), p: p}
				var ms []*Manager
				for range instances {
					ms = append(ms, newManager(t, st, clk, conn))
				}
				// The user logged in an hour ago; the access token
				// expired a second ago.
				if err := ms[0].Keep(t.Context(), subject, provider, p.issue(t0.Add(-time.Second))); err != nil {
					t.Fatal(err)
				}
				p.entered = make(chan struct{}, 100)
				p.release = make(chan struct{})
				const callers = 20
				inFlight := make(chan struct{}, callers)
				leaseWaits := make(chan struct{}, 1000)
				for _, m := range ms {
					m.onFlight = func() { inFlight <- struct{}{} }
					m.onLeaseWait = func() {
						select {
						case leaseWaits <- struct{}{}:
						default:
						}
					}
				}
				start := make(chan struct{})
				var wg sync.WaitGroup
				toks := make([]string, callers)
				errs := make([]error, callers)
				for i := range callers {
					wg.Go(func() {
						<-start
						toks[i], errs[i] = ms[i%len(ms)].UserToken(t.Context(), subject, provider)
					})
				}
				close(start)
				// Every caller has seen the expired token and waits on a
				// flight; with two instances, the second one also waits
				// on the first's lease. Only then may the refresh finish.
				for range callers {
					<-inFlight
				}
				<-p.entered
				if instances == 2 {
					<-leaseWaits
				}
				close(p.release)
				wg.Wait()
				if n := p.refreshes.Load(); n != 1 {
					t.Errorf("Refresh called %d times, want exactly 1", n)
				}
				if n := p.reuses.Load(); n != 0 {
					t.Errorf("%d redemptions of a dead refresh token (invalid_grant)", n)
				}
				for i := range callers {
					if errs[i] != nil || toks[i] != "access-2" {
						t.Errorf("caller %d: token %q, err %v; want access-2", i, toks[i], errs[i])
					}
				}
				// The winner's result is stored: another instance reads it.
				tok, err := ms[len(ms)-1].UserToken(t.Context(), subject, provider)
				if err != nil || tok != "access-2" || p.refreshes.Load() != 1 {
					t.Errorf("after the refresh: %q, %v, %d refreshes", tok, err, p.refreshes.Load())
				}
			})
		}
	}
}

// TestFakeProviderRejectsReuse keeps the acceptance test honest: the fake
// provider really does answer invalid_grant to a second redemption, so
// two refreshes would have shown up as an error.
func TestFakeProviderRejectsReuse(t *testing.T) {
	p := newFakeProvider(time.Now)
	c := &fakeConn{id: provider, p: p}
	data := p.issue(t0)
	if _, err := c.Refresh(t.Context(), login.Identity{ConnectorData: data}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(t.Context(), login.Identity{ConnectorData: data}); !errors.Is(err, login.ErrUserGone) {
		t.Fatalf("second redemption: %v, want invalid_grant (ErrUserGone)", err)
	}
}

func TestFreshTokenIsNotRefreshed(t *testing.T) {
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	m := newManager(t, memory.New(), clk, &fakeConn{id: provider, hash: []byte("h"), p: p})
	m.Keep(t.Context(), subject, provider, p.issue(t0.Add(2*DefaultMargin)))
	tok, err := m.UserToken(t.Context(), subject, provider)
	if err != nil || tok != "access-1" || p.refreshes.Load() != 0 {
		t.Fatalf("fresh token: %q, %v, %d refreshes", tok, err, p.refreshes.Load())
	}
	// Within the margin it is refreshed before it is sent.
	clk.Advance(DefaultMargin + time.Second)
	tok, err = m.UserToken(t.Context(), subject, provider)
	if err != nil || tok != "access-2" || p.refreshes.Load() != 1 {
		t.Fatalf("expiring token: %q, %v, %d refreshes", tok, err, p.refreshes.Load())
	}
}

// TestExpiredNotRenewableIsNoToken: when the provider gave no way to renew
// the token (Refresh returns the data unchanged), an expired token is not
// sent again (the upstream would answer 401 forever): the caller gets
// login.ErrNoToken, on which the proxy ends the grant so the client
// re-authorizes (PX-12). A still-valid one keeps being sent.
func TestExpiredNotRenewableIsNoToken(t *testing.T) {
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	p.noRenew = true
	m := newManager(t, memory.New(), clk, &fakeConn{id: provider, hash: []byte("h"), p: p})
	m.Keep(t.Context(), subject, provider, p.issue(t0.Add(2*DefaultMargin)))
	if tok, err := m.UserToken(t.Context(), subject, provider); err != nil || tok != "access-1" {
		t.Fatalf("valid token: %q, %v", tok, err)
	}
	if _, err := m.RefreshUserToken(t.Context(), subject, provider, "access-1"); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("forced refresh that renews nothing: %v, want login.ErrNoToken", err)
	}
	clk.Advance(3 * DefaultMargin)
	if tok, err := m.UserToken(t.Context(), subject, provider); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("expired, not renewable: %q, %v, want login.ErrNoToken", tok, err)
	}
	if n := p.refreshes.Load(); n != 2 {
		t.Fatalf("%d refreshes, want 2 (one per attempt)", n)
	}
}

// TestOtherConfigHashIsNoToken: data a different configuration of the
// provider issued (another issuer or client ID) is never sent upstream nor
// to the provider's refresh endpoint.
func TestOtherConfigHashIsNoToken(t *testing.T) {
	st := memory.New()
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	old := newManager(t, st, clk, &fakeConn{id: provider, hash: []byte("issuer-A"), p: p})
	old.Keep(t.Context(), subject, provider, p.issue(t0.Add(-time.Hour)))
	m := newManager(t, st, clk, &fakeConn{id: provider, hash: []byte("issuer-B"), p: p})
	if tok, err := m.UserToken(t.Context(), subject, provider); !errors.Is(err, login.ErrNoToken) || tok != "" {
		t.Fatalf("UserToken under another hash: %q, %v; want ErrNoToken", tok, err)
	}
	if _, err := m.RefreshUserToken(t.Context(), subject, provider, "access-1"); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("RefreshUserToken under another hash: %v", err)
	}
	if _, err := m.Load(t.Context(), subject, provider); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("Load under another hash: %v", err)
	}
	if _, err := m.Recheck(t.Context(), subject, provider, login.Identity{}); !errors.Is(err, login.ErrUserGone) {
		// The fake refuses data it cannot parse, i.e. none: it was sent none.
		t.Fatalf("Recheck: %v", err)
	}
	if p.refreshes.Load() != 1 || p.reuses.Load() != 0 || len(p.live) != 1 {
		t.Fatalf("the old configuration's refresh token was redeemed: %d refreshes, live %v", p.refreshes.Load(), p.live)
	}
}

// TestRewrittenConfigHashDoesNotOpen: someone with write access to the
// store relabelling data with the current hash does not get it sent: the
// hash is part of the seal's associated data.
func TestRewrittenConfigHashDoesNotOpen(t *testing.T) {
	st := memory.New()
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	old := newManager(t, st, clk, &fakeConn{id: provider, hash: []byte("issuer-A"), p: p})
	old.Keep(t.Context(), subject, provider, p.issue(t0.Add(time.Hour)))
	st.UpdateUpstreamToken(t.Context(), subject, provider, func(r storage.UpstreamToken) (storage.UpstreamToken, error) {
		r.ConfigHash = []byte("issuer-B")
		return r, nil
	})
	m := newManager(t, st, clk, &fakeConn{id: provider, hash: []byte("issuer-B"), p: p})
	if tok, err := m.UserToken(t.Context(), subject, provider); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("relabelled data: %q, %v; want ErrNoToken", tok, err)
	}
}

// TestDataCopiedToAnotherUserDoesNotOpen: the seal binds subject and
// provider, so a store writer cannot hand alice's token to mallory.
func TestDataCopiedToAnotherUserDoesNotOpen(t *testing.T) {
	st := memory.New()
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	m := newManager(t, st, clk, &fakeConn{id: provider, hash: []byte("h"), p: p})
	m.Keep(t.Context(), subject, provider, p.issue(t0.Add(time.Hour)))
	rec, _ := st.GetUpstreamToken(t.Context(), subject, provider)
	rec.Subject = "corp:mallory"
	st.PutUpstreamToken(t.Context(), rec)
	if tok, err := m.UserToken(t.Context(), "corp:mallory", provider); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("copied data: %q, %v", tok, err)
	}
}

// TestErrorWithNewDataIsStored: a provider that rotates the refresh token
// and still fails the call (GitHub) must not strand the user: the new data
// is stored and the next refresh redeems the new refresh token.
func TestErrorWithNewDataIsStored(t *testing.T) {
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	m := newManager(t, memory.New(), clk, &fakeConn{id: provider, hash: []byte("h"), p: p})
	m.Keep(t.Context(), subject, provider, p.issue(t0.Add(-time.Second)))
	p.failNext = errBoom
	if _, err := m.UserToken(t.Context(), subject, provider); !errors.Is(err, errBoom) {
		t.Fatalf("first refresh: %v, want the provider's error", err)
	}
	tok, err := m.UserToken(t.Context(), subject, provider)
	if err != nil || tok != "access-2" {
		t.Fatalf("after error+data: %q, %v (the rotated data was not kept)", tok, err)
	}
	if p.reuses.Load() != 0 {
		t.Fatal("the dead refresh token was redeemed again")
	}
}

func TestProviderDownIsNotNoToken(t *testing.T) {
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	m := newManager(t, memory.New(), clk, &fakeConn{id: provider, hash: []byte("h"), p: p})
	m.Keep(t.Context(), subject, provider, p.issue(t0.Add(-time.Second)))
	p.down = true
	_, err := m.UserToken(t.Context(), subject, provider)
	if !errors.Is(err, login.ErrProviderUnavailable) || errors.Is(err, login.ErrUserGone) || errors.Is(err, login.ErrNoToken) {
		t.Fatalf("provider down: %v", err)
	}
}

// TestRefreshUserToken: after an upstream 401 the token is refreshed even
// though it has not expired, once: a second caller reporting the same
// rejected token gets the new one without another refresh.
func TestRefreshUserToken(t *testing.T) {
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	m := newManager(t, memory.New(), clk, &fakeConn{id: provider, hash: []byte("h"), p: p})
	m.Keep(t.Context(), subject, provider, p.issue(t0.Add(time.Hour)))
	for range 2 {
		tok, err := m.RefreshUserToken(t.Context(), subject, provider, "access-1")
		if err != nil || tok != "access-2" {
			t.Fatalf("forced refresh: %q, %v", tok, err)
		}
	}
	if n := p.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

func TestNoStoredToken(t *testing.T) {
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	m := newManager(t, memory.New(), clk, &fakeConn{id: provider, hash: []byte("h"), p: p}, &localConn{})
	if _, err := m.UserToken(t.Context(), subject, provider); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("nothing stored: %v", err)
	}
	if _, err := m.UserToken(t.Context(), "local:bob", "local"); !errors.Is(err, login.ErrNoToken) {
		t.Fatalf("local provider: %v", err)
	}
}

// TestRecheckWaitsForRefresh: the AS-6 re-check and a token refresh of one
// user never redeem the same refresh token: the re-check waits for the
// refresh in flight and then refreshes the rotated data.
func TestRecheckWaitsForRefresh(t *testing.T) {
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	m := newManager(t, memory.New(), clk, &fakeConn{id: provider, hash: []byte("h"), p: p})
	m.Keep(t.Context(), subject, provider, p.issue(t0.Add(-time.Second)))
	p.entered = make(chan struct{}, 10)
	p.release = make(chan struct{})
	refreshed := make(chan error, 1)
	go func() {
		_, err := m.UserToken(t.Context(), subject, provider)
		refreshed <- err
	}()
	<-p.entered // the token refresh is in flight, holding the lock
	rechecked := make(chan error, 1)
	var got login.Identity
	var waiting atomic.Bool
	m.onLeaseWait = func() { waiting.Store(true) }
	lockWait := make(chan struct{}, 1)
	m.locks.onWait = func() { lockWait <- struct{}{} }
	go func() {
		var err error
		got, err = m.Recheck(t.Context(), subject, provider, login.Identity{Groups: []string{"old"}})
		rechecked <- err
	}()
	<-lockWait // the re-check waits for the refresh's lock
	close(p.release)
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
	if err := <-rechecked; err != nil {
		t.Fatalf("re-check: %v (it redeemed the refresh token the refresh had spent)", err)
	}
	if p.reuses.Load() != 0 || p.refreshes.Load() != 2 || got.Subject != "alice" || got.Groups[0] != "refreshed" {
		t.Fatalf("reuses %d, refreshes %d, identity %+v", p.reuses.Load(), p.refreshes.Load(), got)
	}
	if waiting.Load() {
		t.Error("one process waited on its own lease")
	}
	tok, err := m.UserToken(t.Context(), subject, provider)
	if err != nil || tok != "access-3" {
		t.Fatalf("after re-check: %q, %v (the re-check's data was not stored)", tok, err)
	}
}

// TestRecheckLocal: a connector without upstream tokens keeps its data
// (the local password stamp) and is re-checked with it.
func TestRecheckLocal(t *testing.T) {
	clk := clock.New(t0)
	l := &localConn{}
	m := newManager(t, memory.New(), clk, l)
	if err := m.Keep(t.Context(), "local:bob", "local", []byte("stamp-1")); err != nil {
		t.Fatal(err)
	}
	id, err := m.Recheck(t.Context(), "local:bob", "local", login.Identity{})
	if err != nil || id.Subject != "bob" {
		t.Fatalf("re-check: %+v, %v", id, err)
	}
	if _, err := m.Recheck(t.Context(), "local:carol", "local", login.Identity{}); !errors.Is(err, login.ErrUserGone) {
		t.Fatalf("no stamp stored: %v", err)
	}
}

// TestRevoke: the kill switch revokes the stored tokens at the provider;
// a provider without revocation is not an error.
func TestRevoke(t *testing.T) {
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	st := memory.New()
	m := newManager(t, st, clk, &fakeConn{id: provider, hash: []byte("h"), p: p}, &localConn{})
	data := p.issue(t0.Add(time.Hour))
	m.Keep(t.Context(), subject, provider, data)
	n, err := m.Revoke(t.Context(), subject)
	if err != nil || n != 1 || len(p.revoked) != 1 || !bytes.Equal(p.revoked[0], data) {
		t.Fatalf("revoke: %d, %v, revoked %q", n, err, p.revoked)
	}
	p.revokeErr = fmt.Errorf("no revocation endpoint: %w", errors.ErrUnsupported)
	if n, err := m.Revoke(t.Context(), subject); n != 0 || err != nil {
		t.Fatalf("unsupported: %d, %v", n, err)
	}
	p.revokeErr = errBoom
	if n, err := m.Revoke(t.Context(), subject); n != 0 || !errors.Is(err, errBoom) {
		t.Fatalf("failing: %d, %v", n, err)
	}
	if n, err := m.Revoke(t.Context(), "corp:nobody"); n != 0 || err != nil {
		t.Fatalf("nothing stored: %d, %v", n, err)
	}
}

// TestCallerCancelDoesNotDropRotation: a client hanging up during the
// refresh must not lose the rotated refresh token: the refresh completes
// and is stored.
func TestCallerCancelDoesNotDropRotation(t *testing.T) {
	clk := clock.New(t0)
	p := newFakeProvider(clk.Now)
	m := newManager(t, memory.New(), clk, &fakeConn{id: provider, hash: []byte("h"), p: p})
	m.Keep(t.Context(), subject, provider, p.issue(t0.Add(-time.Second)))
	p.entered = make(chan struct{}, 10)
	p.release = make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := m.UserToken(ctx, subject, provider); done <- err }()
	<-p.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(p.release)
	// The next caller joins or follows the detached flight and gets its
	// result, with no second redemption.
	tok, err := m.UserToken(t.Context(), subject, provider)
	if err != nil || tok != "access-2" || p.reuses.Load() != 0 || p.refreshes.Load() != 1 {
		t.Fatalf("after cancel: %q, %v, reuses %d, refreshes %d", tok, err, p.reuses.Load(), p.refreshes.Load())
	}
}

func TestLeaseNameHidesSubject(t *testing.T) {
	n := LeaseName("corp:alice@example.com", provider)
	if bytes.Contains([]byte(n), []byte("alice")) || n == LeaseName("corp:bob", provider) || len(n) > 64 {
		t.Fatalf("lease name %q", n)
	}
}

// TestRecheckStoresFirstData: a re-check of a user with nothing stored
// keeps what the connector returns (a record is created, not updated).
func TestRecheckStoresFirstData(t *testing.T) {
	clk := clock.New(t0)
	st := memory.New()
	m := newManager(t, st, clk, &firstDataConn{})
	if _, err := m.Recheck(t.Context(), "first:bob", "first", login.Identity{}); err != nil {
		t.Fatal(err)
	}
	if data, err := m.Load(t.Context(), "first:bob", "first"); err != nil || string(data) != "first-data" {
		t.Fatalf("stored %q, %v", data, err)
	}
}

type firstDataConn struct{}

func (*firstDataConn) ID() string          { return "first" }
func (*firstDataConn) Type() string        { return "local" }
func (*firstDataConn) DisplayName() string { return "first" }
func (*firstDataConn) Refresh(_ context.Context, id login.Identity) (login.Identity, error) {
	id.ConnectorData = []byte("first-data")
	return id, nil
}
