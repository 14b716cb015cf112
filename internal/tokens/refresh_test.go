package tokens

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// startFamily starts a family for client-a and returns it with its handle.
func (f *fixture) startFamily(t *testing.T, subject string) (storage.RefreshFamily, string) {
	t.Helper()
	fam, h, err := f.ref.Start(t.Context(), storage.RefreshFamily{
		ClientID: "client-a", Subject: subject, ProviderID: "local", Resource: testResource,
		Scopes: []string{"tools:read"}, AuthTime: f.clk.Now(),
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if fam.ID == "" || !fam.ExpiresAt.Equal(f.clk.Now().Add(24*time.Hour)) {
		t.Fatalf("Start returned %+v", fam)
	}
	return fam, h
}

func (f *fixture) rotate(t *testing.T, h, client string) RotateResult {
	t.Helper()
	res, err := f.ref.Rotate(t.Context(), h, client)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return res
}

// mintFor mints an access token for fam, as the token endpoint would.
func (f *fixture) mintFor(t *testing.T, fam storage.RefreshFamily) string {
	t.Helper()
	tok, _ := f.mustMint(t, Grant{Subject: fam.Subject, ClientID: fam.ClientID, Resource: fam.Resource,
		FamilyID: fam.ID, ProviderID: fam.ProviderID, Scopes: fam.Scopes})
	return tok
}

func wantGrantErr(t *testing.T, res RotateResult, err error, target error) {
	t.Helper()
	if !errors.Is(err, target) || res.Handle != "" {
		t.Fatalf("Rotate = %+v, %v; want %v and no handle", res, err, target)
	}
}

func TestRotateThenOldHandleFailsAfterGrace(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		fam, h0 := f.startFamily(t, "local:alice")
		f.clk.Advance(time.Minute)
		res := f.rotate(t, h0, "client-a")
		if res.Handle == h0 || res.Replayed || res.Family.ID != fam.ID || !res.Family.LastUsedAt.Equal(f.clk.Now()) {
			t.Fatalf("Rotate = %+v", res)
		}
		if _, _, ok := ParseHandle(res.Handle); !ok {
			t.Fatalf("successor %q is not a handle", res.Handle)
		}
		f.clk.Advance(f.ref.Grace + time.Second)
		again, err := f.ref.Rotate(t.Context(), h0, "client-a")
		wantGrantErr(t, again, err, ErrInvalidGrant)
	})
}

// Reuse outside the grace window revokes the family: its newest handle
// fails, and its access tokens are rejected here at once (local cache) and
// on another instance at its next poll (revocation log).
func TestReuseOutsideGraceRevokesFamily(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		fam, h0 := f.startFamily(t, "local:alice")
		h1 := f.rotate(t, h0, "client-a").Handle
		access := f.mintFor(t, fam)
		f.clk.Advance(f.ref.Grace + time.Second)

		res, err := f.ref.Rotate(t.Context(), h0, "client-a")
		if !errors.Is(err, ErrReuse) || !errors.Is(err, ErrInvalidGrant) || res.Handle != "" {
			t.Fatalf("reuse: %+v, %v; want ErrReuse", res, err)
		}
		if res.Family.ID != fam.ID || !res.Family.Revoked() || res.Family.RevokeReason != ReasonReuse {
			t.Fatalf("reuse returned family %+v", res.Family)
		}
		newest, err := f.ref.Rotate(t.Context(), h1, "client-a")
		wantGrantErr(t, newest, err, ErrInvalidGrant)
		wantRevoked(t, f, access)

		other := NewRevocationCache(s, CacheOptions{Now: f.clk.Now})
		if err := other.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		remote := &Verifier{Issuer: testIssuer, Keys: f.keys, Revoked: other, Now: f.clk.Now}
		if _, err := remote.Verify(t.Context(), access, testResource); !errors.Is(err, ErrRevokedToken) {
			t.Fatalf("other instance: %v; want ErrRevokedToken", err)
		}
	})
}

// Inside the grace window a retry gets the very same successor back, and
// the chain continues from it.
func TestReuseInsideGraceReturnsSameSuccessor(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		_, h0 := f.startFamily(t, "local:alice")
		first := f.rotate(t, h0, "client-a")
		f.clk.Advance(f.ref.Grace) // the window's last instant
		retry := f.rotate(t, h0, "client-a")
		if retry.Handle != first.Handle || !retry.Replayed || retry.Family.Revoked() {
			t.Fatalf("retry = %+v; want %q replayed", retry, first.Handle)
		}
		if next := f.rotate(t, retry.Handle, "client-a"); next.Replayed || next.Handle == first.Handle {
			t.Fatalf("successor did not rotate: %+v", next)
		}
	})
}

// The grace window is the owning client's only, and only while the
// successor is unused.
func TestGraceLimits(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		_, h0 := f.startFamily(t, "local:alice")
		h1 := f.rotate(t, h0, "client-a").Handle
		res, err := f.ref.Rotate(t.Context(), h0, "client-b")
		wantGrantErr(t, res, err, ErrInvalidGrant)
		if errors.Is(err, ErrReuse) {
			t.Fatal("another client's attempt counted as reuse")
		}

		f.rotate(t, h1, "client-a") // the successor is now in use
		res, err = f.ref.Rotate(t.Context(), h0, "client-a")
		if !errors.Is(err, ErrReuse) || res.Handle != "" || !res.Family.Revoked() {
			t.Fatalf("replay after successor use: %+v, %v; want ErrReuse", res, err)
		}
	})
}

// Another client can neither rotate a handle nor use it up.
func TestWrongClientDoesNotConsume(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		_, h0 := f.startFamily(t, "local:alice")
		res, err := f.ref.Rotate(t.Context(), h0, "client-b")
		wantGrantErr(t, res, err, ErrInvalidGrant)
		id, _, _ := ParseHandle(h0)
		if tok, err := s.GetRefreshToken(t.Context(), id); err != nil || !tok.UsedAt.IsZero() {
			t.Fatalf("token after wrong client: %+v, %v", tok, err)
		}
		if res := f.rotate(t, h0, "client-a"); res.Replayed {
			t.Fatal("owner's first rotation was a replay")
		}
	})
}

func TestRotateRefusesBadHandles(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		_, h0 := f.startFamily(t, "local:alice")
		id, _, _ := ParseHandle(h0)
		_, _, other := newHandle()
		_, otherSecret, _ := ParseHandle(other)
		for name, h := range map[string]string{
			"empty": "", "no dot": id, "garbage": "a.b", "unknown id": other,
			"wrong secret": id + "." + handleEncoding.EncodeToString(otherSecret),
		} {
			res, err := f.ref.Rotate(t.Context(), h, "client-a")
			if !errors.Is(err, ErrInvalidGrant) || errors.Is(err, ErrReuse) || res.Handle != "" {
				t.Errorf("%s: %+v, %v", name, res, err)
			}
		}
		f.rotate(t, h0, "client-a") // the real handle still works
	})
}

// N concurrent rotations of one handle: exactly one rotates, the rest get
// the same successor through the grace window, none a different one.
func TestConcurrentRotate(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		_, h0 := f.startFamily(t, "local:alice")
		const n = 16
		results := make([]RotateResult, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i], errs[i] = f.ref.Rotate(t.Context(), h0, "client-a") })
		}
		wg.Wait()
		fresh := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("goroutine %d: %v", i, errs[i])
			}
			if results[i].Handle != results[0].Handle {
				t.Fatalf("goroutine %d got another successor", i)
			}
			if !results[i].Replayed {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("%d fresh rotations; want exactly 1", fresh)
		}
	})
}
