package keys

import (
	"slices"
	"testing"
	"time"
)

// Listing is read-only: on an empty store it shows no key and leaves the
// store empty, where New would have created a first key.
func TestListStoredWritesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, _ func() Store) {
		e := newEnv(t)
		ks, err := ListStored(t.Context(), s, e.seal, e.clock.Now())
		if err != nil || len(ks) != 0 {
			t.Fatalf("ListStored on an empty store = %v, %v; want no keys", ks, err)
		}
		if stored := storedKeys(t, s); len(stored) != 0 {
			t.Fatalf("listing stored %d keys", len(stored))
		}
	})
}

// A key whose private part does not open (its sealing key was removed) is
// listed with its problem; the listing does not fail.
func TestListStoredShowsKeysThatDoNotOpen(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, _ func() Store) {
		e := newEnv(t)
		kid := signingKID(t, e.manager(t, s))
		ks, err := ListStored(t.Context(), s, newKeyring(t, "other"), e.clock.Now())
		if err != nil || len(ks) != 1 || ks[0].ID != kid || ks[0].Problem == "" {
			t.Fatalf("ListStored with the wrong sealing key = %+v, %v; want %s with a problem", ks, err, kid)
		}
		if ks, _ := ListStored(t.Context(), s, e.seal, e.clock.Now()); len(ks) != 1 || ks[0].Problem != "" || ks[0].State != StateActive {
			t.Fatalf("ListStored with the right sealing key = %+v", ks)
		}
	})
}

// ListStored and Manager.List describe the same keys the same way, through
// a rotation: next, then retired, then expired.
func TestListStoredMatchesList(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store, _ func() Store) {
		e := newEnv(t)
		m := e.manager(t, s)
		next, err := m.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{t0, next.ActiveAt, next.ActiveAt.Add(m.o.TokenTTL + time.Minute)} {
			e.clock.Set(at)
			want, err := m.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got, err := ListStored(t.Context(), s, e.seal, at)
			if err != nil || len(got) != 2 || !slices.Equal(got, want) {
				t.Fatalf("at %v: ListStored = %+v, %v\nList = %+v", at, got, err, want)
			}
		}
	})
}
