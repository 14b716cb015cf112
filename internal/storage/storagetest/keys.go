package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var signingKeyTests = []testCase{
	{"RoundTrip", testSigningKeyRoundTrip},
	{"CreateExisting", testSigningKeyCreateExisting},
	{"Update", testSigningKeyUpdate},
	{"ListOldestFirst", testSigningKeyList},
}

// getSigningKey finds a key by ID through the only reader the interface has.
func getSigningKey(t *testing.T, s storage.Store, id string) (storage.SigningKey, error) {
	t.Helper()
	keys, err := s.ListSigningKeys(t.Context())
	if err != nil {
		return storage.SigningKey{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return storage.SigningKey{}, fmt.Errorf("signing key %q: %w", id, storage.ErrNotFound)
}

func testSigningKeyRoundTrip(t *testing.T, s storage.Store) {
	k := newSigningKey("k1", at(-time.Hour))
	k.RetiredAt = at(time.Hour)
	k.ExpiresAt = at(2 * time.Hour)
	requireAllSet(t, k)
	must(t, s.CreateSigningKey(t.Context(), k), "CreateSigningKey")
	got, err := getSigningKey(t, s, "k1")
	must(t, err, "ListSigningKeys")
	check(t, "signing key", got, k)
}

func testSigningKeyCreateExisting(t *testing.T, s storage.Store) {
	k := newSigningKey("k1", at(-time.Hour))
	must(t, s.CreateSigningKey(t.Context(), k), "CreateSigningKey")
	dup := newSigningKey("k1", at(0))
	dup.PrivateSealed = []byte("attacker's key")
	wantErr(t, s.CreateSigningKey(t.Context(), dup), storage.ErrAlreadyExists, "CreateSigningKey twice")
	keys, err := s.ListSigningKeys(t.Context())
	must(t, err, "ListSigningKeys")
	check(t, "keys after refused create", keys, []storage.SigningKey{k})
}

func testSigningKeyUpdate(t *testing.T, s storage.Store) {
	k := newSigningKey("k1", at(-time.Hour))
	must(t, s.CreateSigningKey(t.Context(), k), "CreateSigningKey")
	updaterLaws[storage.SigningKey]{
		stored:  k,
		missing: newSigningKey("nope", at(0)),
		update: func(k storage.SigningKey, fn func(storage.SigningKey) (storage.SigningKey, error)) error {
			return s.UpdateSigningKey(t.Context(), k.ID, fn)
		},
		get: func(k storage.SigningKey) (storage.SigningKey, error) { return getSigningKey(t, s, k.ID) },
		change: func(k storage.SigningKey) storage.SigningKey {
			// Retirement: the change OP-4 rotation makes.
			k.RetiredAt = k.ActiveAt.Add(24 * time.Hour)
			k.ExpiresAt = k.RetiredAt.Add(time.Hour)
			return k
		},
		rekey: func(k storage.SigningKey) storage.SigningKey { k.ID += "-moved"; return k },
	}.check(t)
}

func testSigningKeyList(t *testing.T, s storage.Store) {
	keys, err := s.ListSigningKeys(t.Context())
	must(t, err, "ListSigningKeys of an empty store")
	check(t, "keys of an empty store", keys, nil)

	oldest := newSigningKey("z-oldest", at(-3*time.Hour))
	middle := newSigningKey("a-middle", at(-2*time.Hour))
	newest := newSigningKey("m-newest", at(-time.Hour))
	for _, k := range []storage.SigningKey{middle, newest, oldest} {
		must(t, s.CreateSigningKey(t.Context(), k), "CreateSigningKey")
	}
	keys, err = s.ListSigningKeys(t.Context())
	must(t, err, "ListSigningKeys")
	check(t, "keys, oldest first", keys, []storage.SigningKey{oldest, middle, newest})
}

var revocationTests = []testCase{
	{"RoundTrip", testRevocationRoundTrip},
	{"SameKindAndKeyReplaces", testRevocationReplaces},
	{"ReplacementOnlyTightens", testRevocationOutOfOrder},
	{"ListSince", testRevocationSince},
}

func testRevocationRoundTrip(t *testing.T, s storage.Store) {
	r := newRevocation(storage.RevokeUser, "github:alice", at(0))
	requireAllSet(t, r)
	must(t, s.AddRevocation(t.Context(), r), "AddRevocation")
	l, err := s.ListRevocations(t.Context(), time.Time{})
	must(t, err, "ListRevocations")
	check(t, "revocations", l, []storage.Revocation{r})
}

// A newer user epoch supersedes the older one; an entry of another kind
// with the same key is a different entry.
func testRevocationReplaces(t *testing.T, s storage.Store) {
	first := newRevocation(storage.RevokeUser, "alice", at(0))
	must(t, s.AddRevocation(t.Context(), first), "AddRevocation")
	family := newRevocation(storage.RevokeFamily, "alice", at(time.Second))
	must(t, s.AddRevocation(t.Context(), family), "AddRevocation")
	second := newRevocation(storage.RevokeUser, "alice", at(time.Minute))
	second.Reason = "kill switch, again"
	must(t, s.AddRevocation(t.Context(), second), "AddRevocation of the same kind and key")

	l, err := s.ListRevocations(t.Context(), time.Time{})
	must(t, err, "ListRevocations")
	check(t, "revocations after replacement", l, []storage.Revocation{family, second})
	// The replacement is new to pollers that already saw the first entry.
	l, err = s.ListRevocations(t.Context(), at(30*time.Second))
	must(t, err, "ListRevocations")
	check(t, "revocations since the first entry", l, []storage.Revocation{second})
}

// Two kill switches for one user can land out of order (two instances,
// or a retry). The one landing last must not move the user's epoch back,
// which would re-validate the tokens issued between the two (SPEC AS-5a),
// nor shorten the entry's life, which would let GarbageCollect drop it
// while a token it revokes is still valid. Its reason and CreatedAt do
// land, so pollers see the entry change.
func testRevocationOutOfOrder(t *testing.T, s storage.Store) {
	ctx := t.Context()
	list := func(what string, want ...storage.Revocation) {
		t.Helper()
		l, err := s.ListRevocations(ctx, time.Time{})
		must(t, err, "ListRevocations")
		check(t, what, l, want)
	}
	newer := newRevocation(storage.RevokeUser, "alice", at(time.Minute))
	older := newRevocation(storage.RevokeUser, "alice", at(0))
	older.Reason = "the earlier kill switch, landing late"
	must(t, s.AddRevocation(ctx, newer), "AddRevocation of the newer epoch")
	must(t, s.AddRevocation(ctx, older), "AddRevocation of the older epoch, landing last")
	want := older
	want.NotBefore, want.ExpiresAt = newer.NotBefore, newer.ExpiresAt
	list("entry after an older epoch landed last", want)

	// A later epoch with a shorter life moves the epoch, not the expiry.
	later := newRevocation(storage.RevokeUser, "alice", at(2*time.Minute))
	later.ExpiresAt = at(3 * time.Minute)
	must(t, s.AddRevocation(ctx, later), "AddRevocation of a later epoch with a shorter life")
	want = later
	want.ExpiresAt = newer.ExpiresAt
	list("entry after a later, shorter-lived epoch", want)
	gc(t, s, later.ExpiresAt.Add(time.Minute), storage.GCResult{})
	list("entry after GC past the shorter expiry", want)

	// An entry that never expires (zero ExpiresAt) stays so; a zero
	// NotBefore does not clear the epoch.
	forever := newRevocation(storage.RevokeFamily, "sid-1", at(0))
	forever.ExpiresAt = time.Time{}
	must(t, s.AddRevocation(ctx, forever), "AddRevocation of an entry that never expires")
	again := newRevocation(storage.RevokeFamily, "sid-1", at(4*time.Minute))
	must(t, s.AddRevocation(ctx, again), "AddRevocation of the same entry with an expiry")
	wantForever := again
	wantForever.ExpiresAt = time.Time{}
	unset := newRevocation(storage.RevokeUser, "alice", at(5*time.Minute))
	unset.NotBefore = time.Time{}
	must(t, s.AddRevocation(ctx, unset), "AddRevocation with a zero NotBefore")
	want = unset // its ExpiresAt is the latest yet
	want.NotBefore = later.NotBefore
	list("entries after zero times landed", wantForever, want)
}

func testRevocationSince(t *testing.T, s storage.Store) {
	l, err := s.ListRevocations(t.Context(), time.Time{})
	must(t, err, "ListRevocations of an empty store")
	check(t, "revocations of an empty store", l, nil)

	r1 := newRevocation(storage.RevokeToken, "jti-1", at(-time.Minute))
	r2 := newRevocation(storage.RevokeFamily, "sid-1", at(0))
	r3 := newRevocation(storage.RevokeUser, "alice", at(time.Microsecond))
	r4 := newRevocation(storage.RevokeToken, "jti-0", at(time.Minute))
	for _, r := range []storage.Revocation{r3, r1, r4, r2} {
		must(t, s.AddRevocation(t.Context(), r), "AddRevocation")
	}
	for _, tc := range []struct {
		since time.Time
		want  []storage.Revocation
	}{
		{time.Time{}, []storage.Revocation{r1, r2, r3, r4}},
		{at(0), []storage.Revocation{r2, r3, r4}}, // at or after: inclusive
		{at(0).UTC(), []storage.Revocation{r2, r3, r4}},
		{at(time.Microsecond), []storage.Revocation{r3, r4}},
		{at(2 * time.Minute), nil},
	} {
		l, err := s.ListRevocations(t.Context(), tc.since)
		must(t, err, "ListRevocations")
		check(t, fmt.Sprintf("revocations since base%+v", tc.since.Sub(base)), l, tc.want)
	}
}
