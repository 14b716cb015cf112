package tokens

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

// Rotation keeps a family alive; a family left idle past IdleTimeout is
// revoked at its next use.
func TestIdleTimeout(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		fam, h := f.startFamily(t, "local:alice")
		f.clk.Advance(f.ref.IdleTimeout)
		h = f.rotate(t, h, "client-a").Handle // exactly at the limit: still live
		f.clk.Advance(f.ref.IdleTimeout + time.Second)
		res, err := f.ref.Rotate(t.Context(), h, "client-a")
		wantGrantErr(t, res, err, ErrInvalidGrant)
		got, err := s.GetRefreshFamily(t.Context(), fam.ID)
		if err != nil || !got.Revoked() || got.RevokeReason != ReasonIdle {
			t.Fatalf("family after idle: %+v, %v", got, err)
		}
	})
}

// However active, a family ends at its absolute lifetime.
func TestAbsoluteLifetime(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		fam, h := f.startFamily(t, "local:alice")
		for f.clk.Now().Add(50 * time.Minute).Before(fam.ExpiresAt) {
			f.clk.Advance(50 * time.Minute)
			h = f.rotate(t, h, "client-a").Handle
		}
		f.clk.Advance(50 * time.Minute)
		res, err := f.ref.Rotate(t.Context(), h, "client-a")
		wantGrantErr(t, res, err, ErrInvalidGrant)
	})
}

// The kill switch rejects the user's access tokens issued up to its second
// (including one minted in that second after it, as documented) and not
// those issued from the next second on; it revokes the user's families and
// no one else's.
func TestKillSwitchEpoch(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		famA, hA := f.startFamily(t, "local:alice")
		famB, _ := f.startFamily(t, "local:alice")
		famBob, hBob := f.startFamily(t, "local:bob")
		old := f.mintFor(t, famA)
		bobs := f.mintFor(t, famBob)
		f.clk.Advance(200 * time.Millisecond) // x.7 s, same second

		ids, err := f.ref.RevokeUser(t.Context(), "local:alice", "admin kill switch")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		want := []string{famA.ID, famB.ID}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("RevokeUser = %q; want %q", ids, want)
		}
		wantRevoked(t, f, old)
		res, err := f.ref.Rotate(t.Context(), hA, "client-a")
		wantGrantErr(t, res, err, ErrInvalidGrant)

		newFam, _ := f.startFamily(t, "local:alice") // the user logs in again
		sameSecond := f.mintFor(t, newFam)
		wantRevoked(t, f, sameSecond)
		f.clk.Advance(300 * time.Millisecond) // the next second
		if _, err := f.ver.Verify(t.Context(), f.mintFor(t, newFam), testResource); err != nil {
			t.Fatalf("token issued after the epoch: %v", err)
		}
		if _, err := f.ver.Verify(t.Context(), bobs, testResource); err != nil {
			t.Fatalf("another user's token: %v", err)
		}
		f.rotate(t, hBob, "client-a")
	})
}

func TestRevokeUserRefusesEmptySubject(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		f.startFamily(t, "local:alice")
		if _, err := f.ref.RevokeUser(t.Context(), "", "oops"); err == nil {
			t.Fatal("empty subject accepted")
		}
		if n := f.cache.Len(); n != 0 {
			t.Fatalf("cache holds %d entries after a refused kill switch", n)
		}
	})
}

// RevokeFamily (RFC 7009) ends the handle and the family's access tokens,
// everywhere: the log entry outlives the longest-lived access token.
func TestRevokeFamily(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		fam, h := f.startFamily(t, "local:alice")
		access := f.mintFor(t, fam)
		if err := f.ref.RevokeFamily(t.Context(), fam.ID, "rfc7009"); err != nil {
			t.Fatal(err)
		}
		wantRevoked(t, f, access)
		res, err := f.ref.Rotate(t.Context(), h, "client-a")
		wantGrantErr(t, res, err, ErrInvalidGrant)
		log, err := s.ListRevocations(t.Context(), time.Time{})
		if err != nil || len(log) != 1 {
			t.Fatalf("log = %+v, %v", log, err)
		}
		if r := log[0]; r.Kind != storage.RevokeFamily || r.Key != fam.ID ||
			r.ExpiresAt.Before(f.clk.Now().Add(DefaultAccessTTL+DefaultSkew)) {
			t.Fatalf("log entry %+v", r)
		}
	})
}

// A grant without refresh tokens (its client is not registered for the
// refresh_token grant) has a sid but no family record. Revoking it (a
// replayed code) must still kill its access tokens through the log.
func TestRevokeFamilyWithoutRecord(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		access, _ := f.mustMint(t, Grant{Subject: "local:alice", ClientID: "client-a", Resource: testResource,
			FamilyID: "sid-without-family", ProviderID: "local", Scopes: []string{"tools:read"}})
		if err := f.ref.RevokeFamily(t.Context(), "sid-without-family", "code_replay"); err != nil {
			t.Fatalf("RevokeFamily of a sid with no record: %v", err)
		}
		wantRevoked(t, f, access)
		log, _ := s.ListRevocations(t.Context(), time.Time{})
		if len(log) != 1 || log[0].Key != "sid-without-family" {
			t.Fatalf("log = %+v", log)
		}
	})
}

// Revoking a consent revokes that client's grants for the user, access
// tokens included, and nobody else's (SPEC AS-5a).
func TestRevokeGrants(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		fam, _ := f.startFamily(t, "local:alice")
		other, _ := f.startFamily(t, "local:bob")
		access, otherAccess := f.mintFor(t, fam), f.mintFor(t, other)
		ids, err := f.ref.RevokeGrants(t.Context(), "local:alice", "client-a", "consent_revoked")
		if err != nil || len(ids) != 1 || ids[0] != fam.ID {
			t.Fatalf("RevokeGrants = %v, %v; want [%s]", ids, err, fam.ID)
		}
		wantRevoked(t, f, access)
		if _, err := f.ver.Verify(t.Context(), otherAccess, testResource); err != nil {
			t.Fatalf("another user's token was revoked: %v", err)
		}
		if _, err := f.ref.RevokeGrants(t.Context(), "", "client-a", "x"); err == nil {
			t.Fatal("an empty subject was accepted")
		}
	})
}

func TestStartRefusesIncompleteFamily(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		if _, _, err := f.ref.Start(t.Context(), storage.RefreshFamily{ClientID: "c", Subject: "s"}); err == nil {
			t.Fatal("family without resource accepted")
		}
	})
}

type failingLog struct{ storage.RevocationStore }

func (failingLog) AddRevocation(context.Context, storage.Revocation) error {
	return errors.New("log unavailable")
}

// A reuse is reported even when publishing the revocation fails, so the
// caller still audits it and refuses the grant; the error says why the
// revocation must be retried.
func TestReuseReportedWhenRevocationLogFails(t *testing.T) {
	f := newFixture(t, memory.New())
	_, h0 := f.startFamily(t, "local:alice")
	f.rotate(t, h0, "client-a")
	f.clk.Advance(f.ref.Grace + time.Second)
	f.ref.Revocations = failingLog{f.store}
	res, err := f.ref.Rotate(t.Context(), h0, "client-a")
	if !errors.Is(err, ErrReuse) || !strings.Contains(err.Error(), "log unavailable") || res.Handle != "" {
		t.Fatalf("Rotate = %+v, %v; want ErrReuse joined with the log failure", res, err)
	}
}
