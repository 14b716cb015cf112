package keys

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// SPEC OP-4: the next key is published before it signs.
func TestRotatePublishesBeforeSigning(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, instance func() Store) {
		e := newEnv(t)
		m := e.manager(t, s)
		other := e.manager(t, instance()) // a second instance
		old := signingKID(t, m)

		next, err := m.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := t0.Add(m.o.PublishAhead); !next.CreatedAt.Equal(t0) || !next.ActiveAt.Equal(want) {
			t.Fatalf("new key created %v active %v, want %v and %v", next.CreatedAt, next.ActiveAt, t0, want)
		}
		if err := other.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, mm := range []*Manager{m, other} {
			if kids := jwksKIDs(t, mm); !slices.Contains(kids, next.ID) || !slices.Contains(kids, old) {
				t.Fatalf("JWKS %v must hold the old key %s and the next key %s", kids, old, next.ID)
			}
			if got := signingKID(t, mm); got != old {
				t.Fatalf("signed with %s before the next key's ActiveAt, want the old key %s", got, old)
			}
		}
		e.clock.Set(next.ActiveAt.Add(-time.Nanosecond))
		if got := signingKID(t, m); got != old {
			t.Fatalf("signed with %s 1ns before ActiveAt, want %s", got, old)
		}
		e.clock.Set(next.ActiveAt)
		for _, mm := range []*Manager{m, other} {
			if got := signingKID(t, mm); got != next.ID {
				t.Fatalf("signed with %s at ActiveAt, want the new key %s", got, next.ID)
			}
		}
	})
}

// SPEC OP-4: a retired key stays published until every token it signed
// has expired, and not after.
func TestRetiredKeyVerifiesUntilExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, _ func() Store) {
		e := newEnv(t)
		m := e.manager(t, s)
		next, err := m.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Set(next.ActiveAt.Add(-time.Nanosecond))
		tok, err := m.Sign([]byte(`{}`), "at+jwt") // the old key's last token
		if err != nil {
			t.Fatal(err)
		}
		oldKID, _, ok := verify(m, tok)
		if !ok || oldKID == next.ID {
			t.Fatalf("the last token of the old key: kid %s ok %v", oldKID, ok)
		}
		old := storedKey(t, s, oldKID)
		if !old.RetiredAt.Equal(next.ActiveAt) || !old.ExpiresAt.Equal(next.ActiveAt.Add(m.o.TokenTTL+time.Minute)) {
			t.Fatalf("old key retired %v expires %v; want %v and RetiredAt+TokenTTL+1m", old.RetiredAt, old.ExpiresAt, next.ActiveAt)
		}
		e.clock.Set(old.ExpiresAt.Add(-time.Nanosecond))
		if _, _, ok := verify(m, tok); !ok || !slices.Contains(jwksKIDs(t, m), oldKID) {
			t.Fatal("the old key's token stopped verifying before ExpiresAt")
		}
		e.clock.Set(old.ExpiresAt)
		if _, _, ok := verify(m, tok); ok {
			t.Fatal("the old key's token still verifies at ExpiresAt")
		}
		if kids := jwksKIDs(t, m); slices.Contains(kids, oldKID) || !slices.Contains(kids, next.ID) {
			t.Fatalf("JWKS at ExpiresAt: %v, want only %s", kids, next.ID)
		}
	})
}

// A restarted instance finds the keys in the store: no new key, same kid.
func TestRestartKeepsKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, instance func() Store) {
		e := newEnv(t)
		m := e.manager(t, s)
		kid := signingKID(t, m)
		next, err := m.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := m.Sign([]byte(`{}`), "at+jwt")
		e.clock.Advance(time.Second)

		restarted := e.manager(t, instance())
		if got := signingKID(t, restarted); got != kid {
			t.Fatalf("after restart signs with %s, want %s", got, kid)
		}
		if n := len(storedKeys(t, s)); n != 2 {
			t.Fatalf("%d keys after restart, want 2 (no new key)", n)
		}
		if _, _, ok := verify(restarted, tok); !ok {
			t.Fatal("a token signed before the restart does not verify")
		}
		e.clock.Set(next.ActiveAt)
		if got := signingKID(t, restarted); got != next.ID {
			t.Fatalf("after restart the rotation is lost: signs with %s, want %s", got, next.ID)
		}
	})
}

// blindStore hides the stored keys from its first lists: an instance that
// started at the same moment as another and saw an empty store.
type blindStore struct {
	Store
	mu    sync.Mutex
	blind int
}

func (b *blindStore) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.blind > 0 {
		b.blind--
		return nil, nil
	}
	return b.Store.ListSigningKeys(ctx)
}

// Two instances that both created a first key agree on one after Reload,
// and the next rotation retires the loser.
func TestTwoManagersConverge(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, instance func() Store) {
		e := newEnv(t)
		a := e.manager(t, s)
		e.clock.Advance(time.Second)
		// b saw an empty store in New and in createFirst.
		b := e.manager(t, &blindStore{Store: instance(), blind: 2})
		ka, kb := signingKID(t, a), signingKID(t, b)
		if ka == kb || len(storedKeys(t, s)) != 2 {
			t.Fatal("setup: the two instances should have made a key each")
		}
		tok, _ := a.Sign([]byte(`{}`), "at+jwt")
		if err := a.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := signingKID(t, a); got != kb {
			t.Fatalf("after Reload a signs with %s, b with %s", got, kb)
		}
		if _, _, ok := verify(b, tok); !ok {
			t.Fatal("a token signed by the losing key does not verify")
		}
		next, err := a.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if k := storedKey(t, s, ka); !k.RetiredAt.Equal(next.ActiveAt) {
			t.Fatalf("the losing key is not retired by the rotation: RetiredAt %v", k.RetiredAt)
		}
	})
}

// Two instances starting together on one store end up signing with the
// same key, however their creations interleave.
func TestConcurrentStartConverges(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, instance func() Store) {
		e := newEnv(t)
		stores := []Store{s, instance()}
		ms := make([]*Manager, 2)
		var wg sync.WaitGroup
		for i := range ms {
			wg.Go(func() { ms[i] = e.manager(t, stores[i]) })
		}
		wg.Wait()
		for _, m := range ms {
			if err := m.Reload(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if a, b := signingKID(t, ms[0]), signingKID(t, ms[1]); a != b {
			t.Fatalf("instances sign with %s and %s", a, b)
		}
	})
}

// Scheduled rotation happens exactly RotateEvery after the newest key's
// ActiveAt, once, and is audited.
func TestScheduledRotationExactlyWhenDue(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, _ func() Store) {
		e := newEnv(t)
		const every = 24 * time.Hour
		m := e.manager(t, s, func(o *Options) { o.RotateEvery = every })
		due := t0.Add(every)
		for _, step := range []struct {
			at   time.Time
			keys int
		}{
			{due.Add(-time.Nanosecond), 1},
			{due, 2},
			{due, 2}, // the next key is pending: not due again
			{due.Add(m.o.PublishAhead + every - time.Nanosecond), 2},
			{due.Add(m.o.PublishAhead + every), 3},
		} {
			e.clock.Set(step.at)
			m.tick(t.Context())
			if n := len(storedKeys(t, s)); n != step.keys {
				t.Fatalf("at %v: %d keys, want %d", step.at, n, step.keys)
			}
		}
		evs := e.events()
		if len(evs) != 3 || evs[1].Type != audit.KeyRotated || evs[1].Details["reason"] != reasonScheduled ||
			evs[1].Details["algorithm"] != ES256 || evs[1].Details["kid"] != storedKeys(t, s)[1].ID {
			t.Fatalf("audit events %+v", evs)
		}
	})
}

// Only the lease holder rotates: another instance's tick skips, and a
// manual Rotate reports the held lease.
func TestRotationLease(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, _ func() Store) {
		e := newEnv(t)
		m := e.manager(t, s, func(o *Options) { o.RotateEvery = time.Hour })
		if err := s.AcquireLease(t.Context(), leaseName, "another instance", t0, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour)
		m.tick(t.Context())
		if _, err := m.Rotate(t.Context()); err == nil || len(storedKeys(t, s)) != 1 {
			t.Fatalf("rotated while another instance held the lease (err %v)", err)
		}
		if err := s.ReleaseLease(t.Context(), leaseName, "another instance"); err != nil {
			t.Fatal(err)
		}
		m.tick(t.Context())
		if n := len(storedKeys(t, s)); n != 2 {
			t.Fatalf("%d keys after the lease was released, want 2", n)
		}
	})
}
