package storagetest

import (
	"testing"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// Run runs the conformance suite against the backend newStore builds. Every
// subtest gets a fresh, empty store from newStore, which registers its own
// cleanup with t. A backend's test file calls it:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return memory.New() })
//	}
//
// Where storage.go is silent, the suite pins these rules for every backend:
//   - times keep at least microsecond precision and come back in UTC; nil and
//     empty slices are interchangeable;
//   - a record is expired when its non-zero ExpiresAt is before now (a record
//     expiring exactly at now is still live); a zero ExpiresAt never expires;
//     a browser session also expires at its IdleExpiresAt;
//   - GarbageCollect leaves the audit chain and upstream tokens alone, and
//     keeps a token whose sealed successor it wipes;
//   - an updater cannot move a record to another key: the backend refuses
//     or keeps the original key;
//   - RotateRefreshToken returns the old token as rotated on success, and
//     changes nothing when it fails (ErrConsumed, ErrRevoked, ErrNotFound,
//     ErrAlreadyExists for a taken successor ID, ErrInvalidArgument for a
//     successor in another family); a revoked family gives ErrRevoked even
//     for a token already used;
//   - a lease expiring exactly at now is still held;
//   - a refused call (ErrInvalidArgument) changes nothing;
//   - ConsumeAuthCode does not judge expiry; an empty hash never finds an
//     auth request by upstream state;
//   - PruneAudit removes only a prefix of the chain (records older than
//     before up to the first one that is not); after it removed every
//     record, the next build still gets ok=true and the last Seq and Hash,
//     so Seq is never reused and the chain never restarts;
//   - list methods whose order storage.go does not state may answer in any
//     order; the suite sorts before comparing.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
			}
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

var groups = []struct {
	name  string
	cases []testCase
}{
	{"Ping", []testCase{{"OK", testPing}, {"AfterClose", testPingAfterClose}}},
	{"Clients", clientTests},
	{"AuthRequests", authRequestTests},
	{"AuthCodes", authCodeTests},
	{"RefreshFamilies", refreshFamilyTests},
	{"RefreshRotation", rotationTests},
	{"Consents", consentTests},
	{"BrowserSessions", browserSessionTests},
	{"UpstreamTokens", upstreamTokenTests},
	{"SigningKeys", signingKeyTests},
	{"Revocations", revocationTests},
	{"MCPSessions", mcpSessionTests},
	{"Leases", leaseTests},
	{"Audit", auditTests},
	{"GarbageCollect", gcTests},
	{"Times", timeTests},
	{"NoAliasing", aliasingTests},
	{"Concurrency", concurrencyTests},
}

func testPing(t *testing.T, s storage.Store) {
	must(t, s.Ping(t.Context()), "Ping")
}

// Readiness reflects shutdown: a closed store is not ready. The store
// newStore registered a cleanup for is closed again by it, which must be
// harmless.
func testPingAfterClose(t *testing.T, s storage.Store) {
	must(t, s.Close(), "Close")
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded, want an error")
	}
	must(t, s.Close(), "second Close")
}

// updaterLaws checks what storage.Store promises of every compare-and-swap
// updater, for a record type T whose key the closures read from a T.
type updaterLaws[T any] struct {
	stored  T // already in the store
	missing T // a record whose key is not in the store
	update  func(key T, fn func(T) (T, error)) error
	get     func(key T) (T, error)
	change  func(T) T // returns the record with non-key fields changed
	rekey   func(T) T // returns the record with its key changed
}

func (u updaterLaws[T]) check(t *testing.T) {
	t.Helper()

	// A missing key is ErrNotFound, and fn has nothing to see.
	called := false
	err := u.update(u.missing, func(old T) (T, error) { called = true; return old, nil })
	wantErr(t, err, storage.ErrNotFound, "update of a missing key")
	if called {
		t.Error("update of a missing key called fn")
	}

	// An error from fn aborts the update and comes back unchanged, even if
	// fn scribbled on the record it was handed.
	err = u.update(u.stored, func(old T) (T, error) {
		check(t, "record handed to fn", old, u.stored)
		scribble(&old)
		return u.change(old), errBoom
	})
	if err != errBoom { // identity, not errors.Is: the contract is "returned unchanged"
		t.Fatalf("update whose fn failed: got error %v, want errBoom itself", err)
	}
	got, err := u.get(u.stored)
	must(t, err, "get after failed update")
	check(t, "record after failed update", got, u.stored)

	// A successful fn's record is what the store keeps.
	want := u.change(u.stored)
	must(t, u.update(u.stored, func(T) (T, error) { return want, nil }), "update")
	got, err = u.get(u.stored)
	must(t, err, "get after update")
	check(t, "record after update", got, want)

	// fn cannot move the record to another key: the store either refuses
	// (and keeps the record as it was) or keeps the key and applies the rest.
	moved := u.rekey(u.change(want))
	err = u.update(want, func(T) (T, error) { return moved, nil })
	got, getErr := u.get(want)
	must(t, getErr, "get by the original key after an update that changed the key")
	if err != nil {
		check(t, "record after refused re-keying update", got, want)
	} else {
		check(t, "record after re-keying update", got, u.change(want))
	}
	_, err = u.get(moved)
	wantErr(t, err, storage.ErrNotFound, "get by the key an update tried to move to")
}
