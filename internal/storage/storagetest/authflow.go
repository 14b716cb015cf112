package storagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var authRequestTests = []testCase{
	{"RoundTrip", testAuthRequestRoundTrip},
	{"CreateExisting", testAuthRequestCreateExisting},
	{"Missing", testAuthRequestMissing},
	{"Update", testAuthRequestUpdate},
	{"ByUpstreamState", testAuthRequestByUpstreamState},
	{"Delete", testAuthRequestDelete},
	{"Count", testAuthRequestCount},
}

func testAuthRequestRoundTrip(t *testing.T, s storage.Store) {
	r := newAuthRequest("r1")
	requireAllSet(t, r)
	must(t, s.CreateAuthRequest(t.Context(), r), "CreateAuthRequest")
	got, err := s.GetAuthRequest(t.Context(), "r1")
	must(t, err, "GetAuthRequest")
	check(t, "auth request", got, r)
	got, err = s.GetAuthRequestByUpstreamState(t.Context(), r.UpstreamStateHash)
	must(t, err, "GetAuthRequestByUpstreamState")
	check(t, "auth request by upstream state", got, r)
}

func testAuthRequestCreateExisting(t *testing.T, s storage.Store) {
	r := newAuthRequest("r1")
	must(t, s.CreateAuthRequest(t.Context(), r), "CreateAuthRequest")
	dup := newAuthRequest("r1")
	dup.ClientID = "impostor"
	wantErr(t, s.CreateAuthRequest(t.Context(), dup), storage.ErrAlreadyExists, "CreateAuthRequest twice")
	got, err := s.GetAuthRequest(t.Context(), "r1")
	must(t, err, "GetAuthRequest")
	check(t, "auth request after refused create", got, r)
}

func testAuthRequestMissing(t *testing.T, s storage.Store) {
	_, err := s.GetAuthRequest(t.Context(), "nope")
	wantErr(t, err, storage.ErrNotFound, "GetAuthRequest of a missing request")
	_, err = s.GetAuthRequestByUpstreamState(t.Context(), []byte("nope"))
	wantErr(t, err, storage.ErrNotFound, "GetAuthRequestByUpstreamState of an unknown state")
	wantErr(t, s.DeleteAuthRequest(t.Context(), "nope"), storage.ErrNotFound, "DeleteAuthRequest of a missing request")
}

func testAuthRequestUpdate(t *testing.T, s storage.Store) {
	r := newAuthRequest("r1")
	must(t, s.CreateAuthRequest(t.Context(), r), "CreateAuthRequest")
	updaterLaws[storage.AuthRequest]{
		stored:  r,
		missing: newAuthRequest("nope"),
		update: func(k storage.AuthRequest, fn func(storage.AuthRequest) (storage.AuthRequest, error)) error {
			return s.UpdateAuthRequest(t.Context(), k.ID, fn)
		},
		get: func(k storage.AuthRequest) (storage.AuthRequest, error) {
			return s.GetAuthRequest(t.Context(), k.ID)
		},
		change: func(r storage.AuthRequest) storage.AuthRequest {
			r.ConsentGranted = !r.ConsentGranted
			r.Subject += "-changed"
			r.Scopes = append(slices.Clip(r.Scopes), "mcp:write")
			r.AuthTime = r.AuthTime.Add(time.Second)
			return r
		},
		rekey: func(r storage.AuthRequest) storage.AuthRequest { r.ID += "-moved"; return r },
	}.check(t)
}

// The IdP callback finds its request by the upstream state, which is set
// only once the user approved (SPEC AS-3) and may change on a retried login.
func testAuthRequestByUpstreamState(t *testing.T, s storage.Store) {
	r := newAuthRequest("r1")
	r.UpstreamStateHash = nil
	must(t, s.CreateAuthRequest(t.Context(), r), "CreateAuthRequest")
	other := newAuthRequest("r2")
	other.UpstreamStateHash = []byte{}
	must(t, s.CreateAuthRequest(t.Context(), other), "CreateAuthRequest")

	// A callback carrying no state must not match a request that has none:
	// that would let a forged callback complete someone else's flow.
	for _, empty := range [][]byte{nil, {}} {
		_, err := s.GetAuthRequestByUpstreamState(t.Context(), empty)
		wantErr(t, err, storage.ErrNotFound, "GetAuthRequestByUpstreamState of an empty state")
	}

	setState := func(state string) {
		t.Helper()
		must(t, s.UpdateAuthRequest(t.Context(), "r1", func(r storage.AuthRequest) (storage.AuthRequest, error) {
			r.UpstreamStateHash = []byte(state)
			return r, nil
		}), "UpdateAuthRequest")
	}
	setState("state-1")
	got, err := s.GetAuthRequestByUpstreamState(t.Context(), []byte("state-1"))
	must(t, err, "GetAuthRequestByUpstreamState after the state was set")
	if got.ID != "r1" {
		t.Errorf("GetAuthRequestByUpstreamState found %q, want r1", got.ID)
	}

	setState("state-2")
	_, err = s.GetAuthRequestByUpstreamState(t.Context(), []byte("state-1"))
	wantErr(t, err, storage.ErrNotFound, "GetAuthRequestByUpstreamState of a replaced state")
	got, err = s.GetAuthRequestByUpstreamState(t.Context(), []byte("state-2"))
	must(t, err, "GetAuthRequestByUpstreamState of the new state")
	if got.ID != "r1" {
		t.Errorf("GetAuthRequestByUpstreamState found %q, want r1", got.ID)
	}
}

func testAuthRequestDelete(t *testing.T, s storage.Store) {
	r := newAuthRequest("r1")
	must(t, s.CreateAuthRequest(t.Context(), r), "CreateAuthRequest")
	must(t, s.CreateAuthRequest(t.Context(), newAuthRequest("r2")), "CreateAuthRequest")
	must(t, s.DeleteAuthRequest(t.Context(), "r1"), "DeleteAuthRequest")
	_, err := s.GetAuthRequest(t.Context(), "r1")
	wantErr(t, err, storage.ErrNotFound, "GetAuthRequest after delete")
	_, err = s.GetAuthRequestByUpstreamState(t.Context(), r.UpstreamStateHash)
	wantErr(t, err, storage.ErrNotFound, "GetAuthRequestByUpstreamState after delete")
	_, err = s.GetAuthRequest(t.Context(), "r2")
	must(t, err, "GetAuthRequest of the request that was not deleted")
}

func testAuthRequestCount(t *testing.T, s storage.Store) {
	now := at(0)
	n, err := s.CountAuthRequests(t.Context(), now)
	must(t, err, "CountAuthRequests of an empty store")
	if n != 0 {
		t.Errorf("CountAuthRequests of an empty store = %d, want 0", n)
	}
	for id, exp := range map[string]time.Time{
		"expired":  now.Add(-time.Microsecond),
		"boundary": now, // expires exactly now: still pending
		"live-1":   now.Add(time.Minute),
		"live-2":   now.Add(time.Hour),
	} {
		r := newAuthRequest(id)
		r.ExpiresAt = exp
		must(t, s.CreateAuthRequest(t.Context(), r), "CreateAuthRequest")
	}
	for _, tc := range []struct {
		now  time.Time
		want int
	}{
		{now.Add(-time.Hour), 4},
		{now, 3},
		{now.Add(time.Second), 2},
		{now.Add(2 * time.Hour), 0},
	} {
		n, err := s.CountAuthRequests(t.Context(), tc.now)
		must(t, err, "CountAuthRequests")
		if n != tc.want {
			t.Errorf("CountAuthRequests(now%+v) = %d, want %d", tc.now.Sub(now), n, tc.want)
		}
	}
}

var authCodeTests = []testCase{
	{"Consume", testAuthCodeConsume},
	{"CreateExisting", testAuthCodeCreateExisting},
	{"ConsumeUnknown", testAuthCodeConsumeUnknown},
	{"ConsumeExpired", testAuthCodeConsumeExpired},
	{"ConsumeZeroNow", testAuthCodeConsumeZeroNow},
	{"EmptyHash", testAuthCodeEmptyHash},
}

func testAuthCodeConsume(t *testing.T, s storage.Store) {
	c := newAuthCode("code-1")
	full := c
	full.ConsumedAt = at(0) // the only field Create leaves unset
	requireAllSet(t, full)
	must(t, s.CreateAuthCode(t.Context(), c), "CreateAuthCode")
	must(t, s.CreateAuthCode(t.Context(), newAuthCode("code-2")), "CreateAuthCode")

	first := at(time.Second)
	got, err := s.ConsumeAuthCode(t.Context(), []byte("code-1"), first)
	must(t, err, "first ConsumeAuthCode")
	want := c
	want.ConsumedAt = first
	check(t, "consumed code", got, want)

	// RFC 6749 §4.1.2: a code is single-use. The replay gets the record so
	// the caller can revoke the family the first exchange created.
	got, err = s.ConsumeAuthCode(t.Context(), []byte("code-1"), at(2*time.Second))
	wantErr(t, err, storage.ErrConsumed, "second ConsumeAuthCode")
	check(t, "code returned with ErrConsumed", got, want)

	// Consuming one code leaves the others alone.
	got, err = s.ConsumeAuthCode(t.Context(), []byte("code-2"), first)
	must(t, err, "ConsumeAuthCode of another code")
	if got.FamilyID != "family-of:code-2" {
		t.Errorf("ConsumeAuthCode(code-2) returned family %q", got.FamilyID)
	}
}

func testAuthCodeCreateExisting(t *testing.T, s storage.Store) {
	c := newAuthCode("code-1")
	must(t, s.CreateAuthCode(t.Context(), c), "CreateAuthCode")
	dup := newAuthCode("code-1")
	dup.ClientID = "impostor"
	wantErr(t, s.CreateAuthCode(t.Context(), dup), storage.ErrAlreadyExists, "CreateAuthCode twice")
	got, err := s.ConsumeAuthCode(t.Context(), []byte("code-1"), at(0))
	must(t, err, "ConsumeAuthCode")
	if got.ClientID != c.ClientID {
		t.Errorf("refused CreateAuthCode overwrote the code: client %q", got.ClientID)
	}
}

func testAuthCodeConsumeUnknown(t *testing.T, s storage.Store) {
	must(t, s.CreateAuthCode(t.Context(), newAuthCode("code-1")), "CreateAuthCode")
	_, err := s.ConsumeAuthCode(t.Context(), []byte("code-2"), at(0))
	wantErr(t, err, storage.ErrNotFound, "ConsumeAuthCode of an unknown code")
}

// Callers pass the SHA-256 of a code, never an empty hash: one means a
// caller lost the code. A record stored under it could be redeemed by any
// other caller with the same bug, so both ends refuse it, as a caller bug,
// and nothing is stored or consumed.
func testAuthCodeEmptyHash(t *testing.T, s storage.Store) {
	for _, empty := range [][]byte{nil, {}} {
		c := newAuthCode("")
		c.Hash = empty
		wantErr(t, s.CreateAuthCode(t.Context(), c), storage.ErrInvalidArgument,
			fmt.Sprintf("CreateAuthCode with hash %#v", empty))
	}
	for _, empty := range [][]byte{nil, {}} {
		_, err := s.ConsumeAuthCode(t.Context(), empty, at(0))
		wantErr(t, err, storage.ErrInvalidArgument, fmt.Sprintf("ConsumeAuthCode of hash %#v", empty))
	}
	// A real code is untouched by the refusals.
	c := newAuthCode("code-1")
	must(t, s.CreateAuthCode(t.Context(), c), "CreateAuthCode")
	_, err := s.ConsumeAuthCode(t.Context(), nil, at(0))
	wantErr(t, err, storage.ErrInvalidArgument, "ConsumeAuthCode of a nil hash beside a stored code")
	got, err := s.ConsumeAuthCode(t.Context(), c.Hash, at(time.Second))
	must(t, err, "ConsumeAuthCode after the refusals")
	want := c
	want.ConsumedAt = at(time.Second)
	check(t, "code consumed after the refusals", got, want)
	// Only that code was ever stored.
	gc(t, s, c.ExpiresAt.Add(time.Hour), storage.GCResult{AuthCodes: 1})
}

// The store does not judge expiry (storage.Store: the clock belongs to the
// caller): an expired code that GarbageCollect has not yet removed is
// consumed like any other, and the caller rejects it by its ExpiresAt.
func testAuthCodeConsumeExpired(t *testing.T, s storage.Store) {
	c := newAuthCode("code-1")
	must(t, s.CreateAuthCode(t.Context(), c), "CreateAuthCode")
	now := c.ExpiresAt.Add(time.Hour)
	got, err := s.ConsumeAuthCode(t.Context(), c.Hash, now)
	must(t, err, "ConsumeAuthCode of an expired code")
	want := c
	want.ConsumedAt = now
	check(t, "consumed expired code", got, want)
}

// A zero now would store ConsumedAt zero, which reads as "unused": the code
// would stay open to replay (RFC 6749 §4.1.2). The store refuses the call and
// the code's one use is still ahead.
func testAuthCodeConsumeZeroNow(t *testing.T, s storage.Store) {
	c := newAuthCode("code-1")
	must(t, s.CreateAuthCode(t.Context(), c), "CreateAuthCode")
	_, err := s.ConsumeAuthCode(t.Context(), c.Hash, time.Time{})
	wantErr(t, err, storage.ErrInvalidArgument, "ConsumeAuthCode with a zero now")
	_, err = s.ConsumeAuthCode(t.Context(), []byte("unknown"), time.Time{})
	wantErr(t, err, storage.ErrInvalidArgument, "ConsumeAuthCode of an unknown code with a zero now")

	now := at(time.Second)
	got, err := s.ConsumeAuthCode(t.Context(), c.Hash, now)
	must(t, err, "ConsumeAuthCode after a refused one")
	want := c
	want.ConsumedAt = now
	check(t, "code consumed after a refused consumption", got, want)
	_, err = s.ConsumeAuthCode(t.Context(), c.Hash, now.Add(time.Second))
	wantErr(t, err, storage.ErrConsumed, "second ConsumeAuthCode")
}
