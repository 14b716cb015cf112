package storagetest

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// concurrency is how many goroutines each race test starts.
const concurrency = 16

var concurrencyTests = []testCase{
	{"CreateSameKey", testRaceCreate},
	{"ConsumeAuthCode", testRaceConsume},
	{"RotateRefreshToken", testRaceRotate},
	{"RevokeRefreshFamilies", testRaceRevoke},
	{"UpdatersLoseNoWrite", testRaceUpdaters},
	{"AppendAudit", testRaceAudit},
	{"AcquireLease", testRaceLease},
}

// race runs f(0) ... f(n-1) on n goroutines held at a barrier and released
// together, so that they really contend, and returns when all are done.
func race(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// oneWinner checks that exactly one of errs is nil and every other one is
// loss, and returns the winner's index.
func oneWinner(t *testing.T, what string, errs []error, loss error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("%s: goroutines %d and %d both succeeded", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loss):
			t.Fatalf("%s: goroutine %d: got error %v, want %v", what, i, err, loss)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: no goroutine succeeded", what)
	}
	return winner
}

func testRaceCreate(t *testing.T, s storage.Store) {
	errs := make([]error, concurrency)
	race(concurrency, func(i int) {
		c := newClient("c1")
		c.Name = fmt.Sprint("writer-", i)
		errs[i] = s.CreateClient(t.Context(), c)
	})
	w := oneWinner(t, "CreateClient of one ID", errs, storage.ErrAlreadyExists)
	got, err := s.GetClient(t.Context(), "c1")
	must(t, err, "GetClient")
	if want := fmt.Sprint("writer-", w); got.Name != want {
		t.Errorf("stored client is %q, want the winner's %q", got.Name, want)
	}
}

// RFC 6749 §4.1.2: of any number of concurrent exchanges of one code,
// exactly one succeeds, and every loser learns when the winner used it.
func testRaceConsume(t *testing.T, s storage.Store) {
	must(t, s.CreateAuthCode(t.Context(), newAuthCode("code-1")), "CreateAuthCode")
	errs := make([]error, concurrency)
	got := make([]storage.AuthCode, concurrency)
	race(concurrency, func(i int) {
		got[i], errs[i] = s.ConsumeAuthCode(t.Context(), []byte("code-1"), at(time.Duration(i)*time.Second))
	})
	w := oneWinner(t, "ConsumeAuthCode", errs, storage.ErrConsumed)
	for i, c := range got {
		if !c.ConsumedAt.Equal(at(time.Duration(w) * time.Second)) {
			t.Errorf("goroutine %d saw ConsumedAt %v, want the winner's %v", i, c.ConsumedAt, at(time.Duration(w)*time.Second))
		}
	}
}

// RFC 9700 §4.14.2: concurrent rotations of one refresh token yield one
// successor; the losers are told which, so none can fork the family.
func testRaceRotate(t *testing.T, s storage.Store) {
	rotationFixture(t, s)
	errs := make([]error, concurrency)
	got := make([]storage.RefreshToken, concurrency)
	race(concurrency, func(i int) {
		got[i], errs[i] = s.RotateRefreshToken(t.Context(), rotation("t1", fmt.Sprint("succ-", i), at(time.Minute)))
	})
	w := oneWinner(t, "RotateRefreshToken", errs, storage.ErrConsumed)
	winner := fmt.Sprint("succ-", w)

	var found []string
	for i := range concurrency {
		id := fmt.Sprint("succ-", i)
		_, err := s.GetRefreshToken(t.Context(), id)
		if exists(t, "GetRefreshToken", err) {
			found = append(found, id)
		}
	}
	check(t, "successors stored", found, []string{winner})
	old, err := s.GetRefreshToken(t.Context(), "t1")
	must(t, err, "GetRefreshToken")
	if old.SuccessorID != winner {
		t.Errorf("old token names successor %q, want %q", old.SuccessorID, winner)
	}
	for i, tok := range got {
		if tok.SuccessorID != winner || string(tok.SuccessorSealed) != "sealed handle of "+winner {
			t.Errorf("goroutine %d was told successor %q (sealed %q), want %q", i, tok.SuccessorID, tok.SuccessorSealed, winner)
		}
	}
}

// The kill switch may run on several instances at once; each family must
// be reported revoked exactly once, so it is published and audited once.
func testRaceRevoke(t *testing.T, s storage.Store) {
	var want []string
	for i := range 4 {
		id := fmt.Sprint("f", i)
		want = append(want, id)
		must(t, s.CreateRefreshFamily(t.Context(), newFamily(id, "alice", "c1"), newRefreshToken("t"+id, id)),
			"CreateRefreshFamily")
	}
	ids := make([][]string, concurrency)
	errs := make([]error, concurrency)
	race(concurrency, func(i int) {
		ids[i], errs[i] = s.RevokeRefreshFamilies(t.Context(), storage.FamilyFilter{Subject: "alice"}, "kill", at(0))
	})
	var all []string
	for i := range concurrency {
		must(t, errs[i], "RevokeRefreshFamilies")
		all = append(all, ids[i]...)
	}
	slices.Sort(all)
	check(t, "families reported revoked, over all goroutines", all, want)
}

// Every updater is compare-and-swap: concurrent updates each adding one
// element must all land (a read-modify-write without isolation loses some).
// Each adds to a field the store lets grow (a family's Scopes may only
// narrow, so its writers add Groups).
func testRaceUpdaters(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, s.CreateClient(ctx, newClient("c1")), "CreateClient")
	must(t, s.CreateAuthRequest(ctx, newAuthRequest("r1")), "CreateAuthRequest")
	must(t, s.CreateRefreshFamily(ctx, newFamily("f1", "alice", "c1"), newRefreshToken("t1", "f1")), "CreateRefreshFamily")
	must(t, s.CreateBrowserSession(ctx, newBrowserSession("b1", "alice", at(0))), "CreateBrowserSession")
	must(t, s.PutUpstreamToken(ctx, newUpstreamToken("alice", "github")), "PutUpstreamToken")
	must(t, s.CreateSigningKey(ctx, newSigningKey("k1", at(0))), "CreateSigningKey")
	must(t, s.CreateMCPSession(ctx, newMCPSession("m1")), "CreateMCPSession")

	// Each fn yields between reading and returning the record, which widens
	// the window a non-isolated read-modify-write would lose writes in.
	tag := func(i int) string { runtime.Gosched(); return fmt.Sprintf("<w%02d>", i) }
	add := func(l []string, i int) []string { return append(slices.Clip(l), tag(i)) }
	addB := func(b []byte, i int) []byte { return append(slices.Clip(b), tag(i)...) }
	for _, u := range []struct {
		name   string
		update func(i int) error
		read   func() (string, error)
	}{
		{"UpdateClient", func(i int) error {
			return s.UpdateClient(ctx, "c1", func(c storage.Client) (storage.Client, error) {
				c.Scopes = add(c.Scopes, i)
				return c, nil
			})
		}, func() (string, error) { c, err := s.GetClient(ctx, "c1"); return fmt.Sprint(c.Scopes), err }},
		{"UpdateAuthRequest", func(i int) error {
			return s.UpdateAuthRequest(ctx, "r1", func(r storage.AuthRequest) (storage.AuthRequest, error) {
				r.Scopes = add(r.Scopes, i)
				return r, nil
			})
		}, func() (string, error) { r, err := s.GetAuthRequest(ctx, "r1"); return fmt.Sprint(r.Scopes), err }},
		{"UpdateRefreshFamily", func(i int) error {
			return s.UpdateRefreshFamily(ctx, "f1", func(f storage.RefreshFamily) (storage.RefreshFamily, error) {
				f.Groups = add(f.Groups, i)
				return f, nil
			})
		}, func() (string, error) { f, err := s.GetRefreshFamily(ctx, "f1"); return fmt.Sprint(f.Groups), err }},
		{"UpdateBrowserSession", func(i int) error {
			return s.UpdateBrowserSession(ctx, "b1", func(b storage.BrowserSession) (storage.BrowserSession, error) {
				b.Groups = add(b.Groups, i)
				return b, nil
			})
		}, func() (string, error) { b, err := s.GetBrowserSession(ctx, "b1"); return fmt.Sprint(b.Groups), err }},
		{"UpdateUpstreamToken", func(i int) error {
			return s.UpdateUpstreamToken(ctx, "alice", "github", func(u storage.UpstreamToken) (storage.UpstreamToken, error) {
				u.Sealed = addB(u.Sealed, i)
				return u, nil
			})
		}, func() (string, error) {
			u, err := s.GetUpstreamToken(ctx, "alice", "github")
			return string(u.Sealed), err
		}},
		{"UpdateSigningKey", func(i int) error {
			return s.UpdateSigningKey(ctx, "k1", func(k storage.SigningKey) (storage.SigningKey, error) {
				k.PrivateSealed = addB(k.PrivateSealed, i)
				return k, nil
			})
		}, func() (string, error) { k, err := getSigningKey(t, s, "k1"); return string(k.PrivateSealed), err }},
		{"UpdateMCPSession", func(i int) error {
			return s.UpdateMCPSession(ctx, "m1", func(m storage.MCPSession) (storage.MCPSession, error) {
				m.UpstreamID += tag(i)
				return m, nil
			})
		}, func() (string, error) { m, err := s.GetMCPSession(ctx, "m1"); return m.UpstreamID, err }},
	} {
		errs := make([]error, concurrency)
		race(concurrency, func(i int) { errs[i] = u.update(i) })
		for i, err := range errs {
			must(t, err, fmt.Sprintf("%s in goroutine %d", u.name, i))
		}
		final, err := u.read()
		must(t, err, "reading back after "+u.name)
		var lost []int
		for i := range concurrency {
			if strings.Count(final, tag(i)) != 1 {
				lost = append(lost, i)
			}
		}
		if len(lost) > 0 {
			t.Errorf("%s: the writes of goroutines %v are lost or doubled in %q", u.name, lost, final)
		}
	}
}

// SPEC AU-2: concurrent appends never fork the chain: Seq runs 1..N with no
// gap or duplicate and each record links to the one before.
func testRaceAudit(t *testing.T, s storage.Store) {
	errs := make([]error, concurrency)
	race(concurrency, func(i int) {
		_, errs[i] = s.AppendAudit(t.Context(), chained(newAuditRecord(fmt.Sprint("e", i), "x", "alice", at(0))))
	})
	for i, err := range errs {
		must(t, err, fmt.Sprint("AppendAudit in goroutine ", i))
	}
	l, err := s.ListAudit(t.Context(), storage.AuditQuery{})
	must(t, err, "ListAudit")
	if len(l) != concurrency {
		t.Fatalf("chain has %d records, want %d", len(l), concurrency)
	}
	verifyChain(t, l, 1)
	seen := map[string]bool{}
	for _, r := range l {
		if seen[r.ID] {
			t.Errorf("record %s appended twice", r.ID)
		}
		seen[r.ID] = true
	}
}

func testRaceLease(t *testing.T, s storage.Store) {
	errs := make([]error, concurrency)
	race(concurrency, func(i int) {
		errs[i] = s.AcquireLease(t.Context(), "key-rotation", fmt.Sprint("instance-", i), at(0), at(time.Minute))
	})
	w := oneWinner(t, "AcquireLease", errs, storage.ErrLeaseHeld)
	for i := range concurrency {
		err := s.AcquireLease(t.Context(), "key-rotation", fmt.Sprint("instance-", i), at(time.Second), at(time.Minute))
		if i == w {
			must(t, err, "the winner re-acquiring")
		} else {
			wantErr(t, err, storage.ErrLeaseHeld, "a loser acquiring after the race")
		}
	}
}
