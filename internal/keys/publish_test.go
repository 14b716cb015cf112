package keys

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

// A token signed by a key another instance has just created verifies here
// (the unknown kid triggers a reload), but unknown kids reload the store at
// most once a second.
func TestUnknownKidReloadIsRateLimited(t *testing.T) {
	e := newEnv(t)
	s := &countingStore{Store: memory.New()}
	m := e.manager(t, s)
	other := e.manager(t, s.Store)
	next, err := other.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(next.ActiveAt)
	tok, _ := other.Sign([]byte(`{}`), "at+jwt")

	base := s.lists.Load()
	if kid, _, ok := verify(m, tok); !ok || kid != next.ID {
		t.Fatalf("a token from a key another instance created does not verify (kid %s)", kid)
	}
	if got := s.lists.Load() - base; got != 1 {
		t.Fatalf("%d store lists for one unknown kid, want 1", got)
	}
	for _, step := range []struct {
		advance time.Duration
		lists   int64
	}{{0, 1}, {999 * time.Millisecond, 1}, {time.Millisecond, 2}, {0, 2}} {
		e.clock.Advance(step.advance)
		for range 100 {
			if _, ok := m.PublicKey("sprayed-" + e.clock.Now().String()); ok {
				t.Fatal("an unknown kid was found")
			}
		}
		if got := s.lists.Load() - base; got != step.lists {
			t.Fatalf("after +%v: %d store lists, want %d", step.advance, got, step.lists)
		}
	}
	if _, ok := m.PublicKey(next.ID); !ok || s.lists.Load()-base != 2 {
		t.Fatal("a known kid went to the store")
	}
}

// The JWKS is cached, rebuilt when the keys change and when a key's
// publication starts or ends, without a reload.
func TestJWKSCacheFollowsChanges(t *testing.T) {
	e := newEnv(t)
	m := e.manager(t, memory.New())
	first := m.JWKS()
	cached := m.jwks.Load()
	if !bytes.Equal(m.JWKS(), first) || m.jwks.Load() != cached {
		t.Fatal("JWKS was rebuilt with nothing changed")
	}
	old := signingKID(t, m)
	next, err := m.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if kids := jwksKIDs(t, m); len(kids) != 2 || !slices.Contains(kids, next.ID) {
		t.Fatalf("after Rotate JWKS holds %v", kids)
	}
	e.clock.Set(next.ActiveAt.Add(m.o.TokenTTL + time.Minute))
	if kids := jwksKIDs(t, m); slices.Contains(kids, old) || len(kids) != 1 {
		t.Fatalf("after the old key expired JWKS holds %v", kids)
	}
	// Callers get their own copy.
	b := m.JWKS()
	b[0] = 'X'
	if m.JWKS()[0] != '{' {
		t.Fatal("a caller's change reached the cached JWKS")
	}
}

func TestListStates(t *testing.T) {
	e := newEnv(t)
	m := e.manager(t, memory.New())
	next, err := m.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	states := func() []string {
		ks, err := m.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range ks {
			out = append(out, k.State)
		}
		return out
	}
	for _, step := range []struct {
		at   time.Time
		want []string
	}{
		{t0, []string{StateActive, StateNext}},
		{next.ActiveAt, []string{StateRetired, StateActive}},
		{next.ActiveAt.Add(m.o.TokenTTL + time.Minute), []string{StateExpired, StateActive}},
	} {
		e.clock.Set(step.at)
		if got := states(); !slices.Equal(got, step.want) {
			t.Fatalf("at %v: states %v, want %v", step.at, got, step.want)
		}
	}
}

// Run polls: a rotation made by another instance (or the CLI) reaches this
// one within PollEvery, and Run rotates on schedule. Fake time (synctest).
func TestRunFollowsAndRotates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, s := newEnv(t), memory.New()
		edit := func(o *Options) { o.Now = time.Now; o.RotateEvery = time.Hour }
		m := e.manager(t, s, edit)
		cli := e.manager(t, s, edit)
		go m.Run(t.Context())

		next, err := cli.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(m.o.PollEvery)
		synctest.Wait()
		if !slices.Contains(jwksKIDs(t, m), next.ID) {
			t.Fatal("Run did not pick up another instance's rotation within PollEvery")
		}
		time.Sleep(time.Until(next.ActiveAt.Add(time.Hour)) + m.o.PollEvery)
		synctest.Wait()
		if n := len(storedKeys(t, s)); n != 3 {
			t.Fatalf("%d keys an hour after the last rotation, want 3", n)
		}
	})
}

// Sign and PublicKey run lock-free while keys reload and rotate.
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	m := e.manager(t, memory.New())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				tok, err := m.Sign([]byte(`{}`), "at+jwt")
				if err != nil {
					t.Error(err)
					return
				}
				if _, _, ok := verify(m, tok); !ok {
					t.Error("a token did not verify during rotation")
					return
				}
				_ = m.JWKS()
			}
		})
	}
	for range 5 {
		if _, err := m.Rotate(t.Context()); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

// Reload reuses opened keys: a poll every few seconds must not unseal and
// parse every key again, and Sign never unseals at all.
func TestReloadKeepsOpenedKeys(t *testing.T) {
	m := newEnv(t).manager(t, memory.New())
	kid := signingKID(t, m)
	before := m.snap.Load().byID[kid].key
	if err := m.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m.snap.Load().byID[kid].key != before {
		t.Fatal("Reload opened an unchanged key again")
	}
}
