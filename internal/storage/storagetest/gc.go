package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var gcTests = []testCase{
	{"EmptyStore", testGCEmpty},
	{"RemovesExactlyTheExpired", testGCExpired},
	{"WipesEndedGraceWindows", testGCSuccessors},
	{"WipesSealedWithoutGraceWindow", testGCSuccessorNoGrace},
}

func gc(t *testing.T, s storage.Store, now time.Time, want storage.GCResult) {
	t.Helper()
	got, err := s.GarbageCollect(t.Context(), now)
	must(t, err, "GarbageCollect")
	check(t, "GCResult", got, want)
}

// exists reports whether get found its record, failing on any error other
// than ErrNotFound.
func exists(t *testing.T, what string, err error) bool {
	t.Helper()
	switch {
	case err == nil:
		return true
	case errors.Is(err, storage.ErrNotFound):
		return false
	}
	t.Fatalf("%s: %v", what, err)
	return false
}

func testGCEmpty(t *testing.T, s storage.Store) {
	gc(t, s, at(0), storage.GCResult{})
}

// gcSeed stores, for every kind GarbageCollect handles, records that are
// expired at now and records that are not; the keys say which is which.
func gcSeed(t *testing.T, s storage.Store, now time.Time) {
	t.Helper()
	ctx := t.Context()
	past, future := now.Add(-time.Hour), now.Add(time.Hour)

	for id, exp := range map[string]time.Time{"expired": past, "live": future, "at-now": now, "forever": {}} {
		c := newClient(id)
		c.ExpiresAt = exp
		must(t, s.CreateClient(ctx, c), "CreateClient")
	}
	for id, exp := range map[string]time.Time{"expired": past, "live": future, "at-now": now} {
		r := newAuthRequest(id)
		r.ExpiresAt = exp
		must(t, s.CreateAuthRequest(ctx, r), "CreateAuthRequest")
	}
	for hash, exp := range map[string]time.Time{"expired": past, "expired-consumed": past, "live": future} {
		c := newAuthCode(hash)
		c.ExpiresAt = exp
		must(t, s.CreateAuthCode(ctx, c), "CreateAuthCode")
	}
	_, err := s.ConsumeAuthCode(ctx, []byte("expired-consumed"), past.Add(-time.Minute))
	must(t, err, "ConsumeAuthCode")

	// A family and each of its tokens expire on their own.
	for _, ft := range []struct {
		fam, tok       string
		famExp, tokExp time.Time
	}{
		{"expired", "expired", past, past},
		{"live", "expired-in-live", future, past},
		{"live-2", "live", future, future},
		{"revoked", "revoked", future, future},
	} {
		f := newFamily(ft.fam, "alice", ft.fam)
		f.ExpiresAt = ft.famExp
		tok := newRefreshToken(ft.tok, ft.fam)
		tok.ExpiresAt = ft.tokExp
		must(t, s.CreateRefreshFamily(ctx, f, tok), "CreateRefreshFamily")
	}
	// Revocation does not make a family collectable: reuse detection needs it.
	_, err = s.RevokeRefreshFamilies(ctx, storage.FamilyFilter{ClientID: "revoked"}, "x", past)
	must(t, err, "RevokeRefreshFamilies")

	for id, exp := range map[string]time.Time{"expired": past, "live": future, "forever": {}} {
		c := newConsent("alice", id, "https://c.example/cb", "https://mcp.example/files")
		c.ExpiresAt = exp
		must(t, s.PutConsent(ctx, c), "PutConsent")
	}

	// A browser session ends at its absolute or its idle expiry (SPEC SE-1).
	for id, exp := range map[string][2]time.Time{
		"expired": {past, past}, "idle-expired": {future, past}, "live": {future, future},
	} {
		b := newBrowserSession(id, "alice", now.Add(-2*time.Hour))
		b.ExpiresAt, b.IdleExpiresAt = exp[0], exp[1]
		must(t, s.CreateBrowserSession(ctx, b), "CreateBrowserSession")
	}

	for id, exp := range map[string]time.Time{"expired": past, "retired-live": future, "active": {}} {
		k := newSigningKey(id, now.Add(-48*time.Hour))
		if !exp.IsZero() {
			k.RetiredAt = past.Add(-time.Hour)
		}
		k.ExpiresAt = exp
		must(t, s.CreateSigningKey(ctx, k), "CreateSigningKey")
	}
	for key, exp := range map[string]time.Time{"expired": past, "live": future} {
		r := newRevocation(storage.RevokeFamily, key, now.Add(-2*time.Hour))
		r.ExpiresAt = exp
		must(t, s.AddRevocation(ctx, r), "AddRevocation")
	}
	for id, exp := range map[string]time.Time{"expired": past, "live": future} {
		m := newMCPSession(id)
		m.ExpiresAt = exp
		must(t, s.CreateMCPSession(ctx, m), "CreateMCPSession")
	}
	must(t, s.AcquireLease(ctx, "expired", "A", past.Add(-time.Hour), past), "AcquireLease")
	must(t, s.AcquireLease(ctx, "live", "A", past, future), "AcquireLease")

	// An upstream token's ExpiresAt is its access token's; the sealed refresh
	// token inside outlives it (SPEC ID-5), and GCResult has no count for it.
	u := newUpstreamToken("alice", "github")
	u.ExpiresAt = past
	must(t, s.PutUpstreamToken(ctx, u), "PutUpstreamToken")

	// The audit chain has no expiry; only PruneAudit removes records.
	_, err = s.AppendAudit(ctx, chained(newAuditRecord("old", "x", "alice", now.Add(-1000*time.Hour))))
	must(t, err, "AppendAudit")
}

func testGCExpired(t *testing.T, s storage.Store) {
	ctx := t.Context()
	now := at(0)
	gcSeed(t, s, now)
	gc(t, s, now, storage.GCResult{
		AuthRequests: 1, AuthCodes: 2, RefreshTokens: 2, RefreshFamilies: 1, Consents: 1,
		BrowserSessions: 2, Clients: 1, SigningKeys: 1, Revocations: 1, MCPSessions: 1, Leases: 1,
	})

	present := func(kind string, want map[string]bool, get func(id string) error) {
		t.Helper()
		for id, w := range want {
			if got := exists(t, kind, get(id)); got != w {
				t.Errorf("%s %q: present after GC = %v, want %v", kind, id, got, w)
			}
		}
	}
	present("client", map[string]bool{"expired": false, "live": true, "at-now": true, "forever": true},
		func(id string) error { _, err := s.GetClient(ctx, id); return err })
	present("auth request", map[string]bool{"expired": false, "live": true, "at-now": true},
		func(id string) error { _, err := s.GetAuthRequest(ctx, id); return err })
	present("auth code", map[string]bool{"expired": false, "expired-consumed": false, "live": true},
		func(id string) error {
			_, err := s.ConsumeAuthCode(ctx, []byte(id), now)
			return err
		})
	present("refresh family", map[string]bool{"expired": false, "live": true, "live-2": true, "revoked": true},
		func(id string) error { _, err := s.GetRefreshFamily(ctx, id); return err })
	present("refresh token", map[string]bool{"expired": false, "expired-in-live": false, "live": true, "revoked": true},
		func(id string) error { _, err := s.GetRefreshToken(ctx, id); return err })
	present("consent for client", map[string]bool{"expired": false, "live": true, "forever": true},
		func(id string) error {
			_, err := s.GetConsent(ctx, "alice", id, "https://c.example/cb", "https://mcp.example/files")
			return err
		})
	present("browser session", map[string]bool{"expired": false, "idle-expired": false, "live": true},
		func(id string) error { _, err := s.GetBrowserSession(ctx, id); return err })
	present("signing key", map[string]bool{"expired": false, "retired-live": true, "active": true},
		func(id string) error { _, err := getSigningKey(t, s, id); return err })
	present("MCP session", map[string]bool{"expired": false, "live": true},
		func(id string) error { _, err := s.GetMCPSession(ctx, id); return err })
	present("upstream token of", map[string]bool{"alice": true},
		func(id string) error { _, err := s.GetUpstreamToken(ctx, id, "github"); return err })

	revs, err := s.ListRevocations(ctx, time.Time{})
	must(t, err, "ListRevocations")
	if len(revs) != 1 || revs[0].Key != "live" {
		t.Errorf("revocations after GC: %+v, want just the live one", revs)
	}
	wantErr(t, s.AcquireLease(ctx, "live", "B", now, now.Add(time.Hour)), storage.ErrLeaseHeld,
		"AcquireLease of a live lease after GC")
	audit, err := s.ListAudit(ctx, storage.AuditQuery{})
	must(t, err, "ListAudit")
	if len(audit) != 1 {
		t.Errorf("GarbageCollect touched the audit chain: %d records left, want 1", len(audit))
	}

	// Everything expired is gone; a second run finds nothing.
	gc(t, s, now, storage.GCResult{})
}

// SPEC AS-6: the sealed successor exists only for the grace window; after
// it the token row stays (reuse detection needs UsedAt and SuccessorID) but
// the sealed copy of a live credential must not linger at rest.
func testGCSuccessors(t *testing.T, s storage.Store) {
	ctx := t.Context()
	now := at(0)
	rotationFixture(t, s)
	ended := rotation("t1", "t2", now.Add(-2*time.Minute))
	ended.GraceUntil = now.Add(-time.Microsecond)
	open := rotation("t2", "t3", now.Add(-30*time.Second))
	open.GraceUntil = now.Add(30 * time.Second)
	boundary := rotation("t3", "t4", now.Add(-10*time.Second))
	boundary.GraceUntil = now // ends exactly now: not yet over
	for _, r := range []storage.Rotation{ended, open, boundary} {
		_, err := s.RotateRefreshToken(ctx, r)
		must(t, err, "RotateRefreshToken")
	}
	before := map[string]storage.RefreshToken{}
	for _, id := range []string{"t1", "t2", "t3", "t4"} {
		tok, err := s.GetRefreshToken(ctx, id)
		must(t, err, "GetRefreshToken")
		before[id] = tok
	}

	gc(t, s, now, storage.GCResult{SuccessorsWiped: 1})
	for id, old := range before {
		got, err := s.GetRefreshToken(ctx, id)
		must(t, err, "GetRefreshToken of "+id+" after GC")
		want := old
		if id == "t1" {
			want.SuccessorSealed = nil
			want.GraceUntil = got.GraceUntil // a backend may clear it too
		}
		check(t, "token "+id+" after GC", got, want)
	}
	gc(t, s, now, storage.GCResult{})
}

// A zero GraceUntil means "no grace window", not "forever": a sealed copy of
// a live credential stored without a deadline must not sit at rest
// indefinitely (SPEC AS-6), so the next collection wipes it, whatever now.
func testGCSuccessorNoGrace(t *testing.T, s storage.Store) {
	ctx := t.Context()
	now := at(0)
	_, t1 := rotationFixture(t, s)
	r := rotation("t1", "t2", now.Add(time.Minute)) // even one rotated after now
	r.GraceUntil = time.Time{}
	_, err := s.RotateRefreshToken(ctx, r)
	must(t, err, "RotateRefreshToken")

	gc(t, s, now, storage.GCResult{SuccessorsWiped: 1})
	got, err := s.GetRefreshToken(ctx, "t1")
	must(t, err, "GetRefreshToken after GC")
	want := rotated(t1, r)
	want.SuccessorSealed = nil
	check(t, "token whose sealed successor had no grace window, after GC", got, want)
	gc(t, s, now, storage.GCResult{})
}
