package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var refreshFamilyTests = []testCase{
	{"RoundTrip", testFamilyRoundTrip},
	{"CreateExisting", testFamilyCreateExisting},
	{"Missing", testFamilyMissing},
	{"Update", testFamilyUpdate},
	{"List", testFamilyList},
	{"Revoke", testFamilyRevoke},
	{"RevokeEmptyFilter", testFamilyRevokeEmptyFilter},
	{"RevokeZeroNow", testFamilyRevokeZeroNow},
	{"UpdateKeepsFixedFields", testFamilyUpdateKeepsFixed},
	{"UpdateCannotWiden", testFamilyUpdateCannotWiden},
	{"RevocationIsOneWay", testFamilyRevocationOneWay},
}

func testFamilyRoundTrip(t *testing.T, s storage.Store) {
	f := newFamily("f1", "github:alice", "client-1")
	f.RevokedAt = at(-time.Minute) // round-trip every field, revocation included
	f.RevokeReason = "test"
	requireAllSet(t, f)
	tok := newRefreshToken("t1", "f1")
	tok.UsedAt = at(-2 * time.Minute)
	tok.SuccessorID = "t2"
	tok.SuccessorSealed = []byte("sealed successor")
	tok.GraceUntil = at(-time.Minute)
	requireAllSet(t, tok)

	must(t, s.CreateRefreshFamily(t.Context(), f, tok), "CreateRefreshFamily")
	gotF, err := s.GetRefreshFamily(t.Context(), "f1")
	must(t, err, "GetRefreshFamily")
	check(t, "family", gotF, f)
	if !gotF.Revoked() {
		t.Error("Revoked() = false for a family with RevokedAt set")
	}
	gotT, err := s.GetRefreshToken(t.Context(), "t1")
	must(t, err, "GetRefreshToken")
	check(t, "refresh token", gotT, tok)
}

// CreateRefreshFamily stores the family and its first token atomically:
// when either key is taken, neither record is written.
func testFamilyCreateExisting(t *testing.T, s storage.Store) {
	f := newFamily("f1", "github:alice", "client-1")
	tok := newRefreshToken("t1", "f1")
	must(t, s.CreateRefreshFamily(t.Context(), f, tok), "CreateRefreshFamily")

	err := s.CreateRefreshFamily(t.Context(), newFamily("f1", "github:mallory", "x"), newRefreshToken("t2", "f1"))
	wantErr(t, err, storage.ErrAlreadyExists, "CreateRefreshFamily with a taken family ID")
	_, err = s.GetRefreshToken(t.Context(), "t2")
	wantErr(t, err, storage.ErrNotFound, "token of a refused family")
	got, err := s.GetRefreshFamily(t.Context(), "f1")
	must(t, err, "GetRefreshFamily")
	check(t, "family after refused create", got, f)

	err = s.CreateRefreshFamily(t.Context(), newFamily("f2", "github:alice", "client-1"), newRefreshToken("t1", "f2"))
	wantErr(t, err, storage.ErrAlreadyExists, "CreateRefreshFamily with a taken token ID")
	_, err = s.GetRefreshFamily(t.Context(), "f2")
	wantErr(t, err, storage.ErrNotFound, "family whose first token was refused")
	gotT, err := s.GetRefreshToken(t.Context(), "t1")
	must(t, err, "GetRefreshToken")
	check(t, "token after refused create", gotT, tok)
}

func testFamilyMissing(t *testing.T, s storage.Store) {
	_, err := s.GetRefreshFamily(t.Context(), "nope")
	wantErr(t, err, storage.ErrNotFound, "GetRefreshFamily of a missing family")
	_, err = s.GetRefreshToken(t.Context(), "nope")
	wantErr(t, err, storage.ErrNotFound, "GetRefreshToken of a missing token")
}

func testFamilyUpdate(t *testing.T, s storage.Store) {
	f := newFamily("f1", "github:alice", "client-1")
	must(t, s.CreateRefreshFamily(t.Context(), f, newRefreshToken("t1", "f1")), "CreateRefreshFamily")
	updaterLaws[storage.RefreshFamily]{
		stored:  f,
		missing: newFamily("nope", "github:alice", "client-1"),
		update: func(k storage.RefreshFamily, fn func(storage.RefreshFamily) (storage.RefreshFamily, error)) error {
			return s.UpdateRefreshFamily(t.Context(), k.ID, fn)
		},
		get: func(k storage.RefreshFamily) (storage.RefreshFamily, error) {
			return s.GetRefreshFamily(t.Context(), k.ID)
		},
		change: func(f storage.RefreshFamily) storage.RefreshFamily {
			f.Groups = append(slices.Clip(f.Groups), "new-group")
			// A user re-check replaces the email, verified or withdrawn.
			f.Email, f.EmailVerified = "changed-"+f.Email, !f.EmailVerified
			f.UserCheckedAt = f.UserCheckedAt.Add(15 * time.Minute)
			return f
		},
		rekey: func(f storage.RefreshFamily) storage.RefreshFamily { f.ID += "-moved"; return f },
	}.check(t)
}

// familySet creates the families the filter tests select from.
func familySet(t *testing.T, s storage.Store) map[string]storage.RefreshFamily {
	t.Helper()
	fams := map[string]storage.RefreshFamily{
		"alice-c1":   newFamily("alice-c1", "github:alice", "c1"),
		"alice-c2":   newFamily("alice-c2", "github:alice", "c2"),
		"bob-c1":     newFamily("bob-c1", "github:bob", "c1"),
		"bob-c2-old": newFamily("bob-c2-old", "github:bob", "c2"),
	}
	old := fams["bob-c2-old"]
	old.RevokedAt = at(-time.Hour)
	old.RevokeReason = "logout"
	fams["bob-c2-old"] = old
	for id, f := range fams {
		must(t, s.CreateRefreshFamily(t.Context(), f, newRefreshToken("tok-"+id, id)), "CreateRefreshFamily")
	}
	return fams
}

func familyIDs(l []storage.RefreshFamily) []string {
	ids := make([]string, len(l))
	for i, f := range l {
		ids[i] = f.ID
	}
	slices.Sort(ids)
	return ids
}

func testFamilyList(t *testing.T, s storage.Store) {
	l, err := s.ListRefreshFamilies(t.Context(), storage.FamilyFilter{IncludeRevoked: true})
	must(t, err, "ListRefreshFamilies of an empty store")
	check(t, "families of an empty store", l, nil)

	fams := familySet(t, s)
	for _, tc := range []struct {
		f    storage.FamilyFilter
		want []string
	}{
		{storage.FamilyFilter{}, []string{"alice-c1", "alice-c2", "bob-c1"}},
		{storage.FamilyFilter{IncludeRevoked: true}, []string{"alice-c1", "alice-c2", "bob-c1", "bob-c2-old"}},
		{storage.FamilyFilter{Subject: "github:bob"}, []string{"bob-c1"}},
		{storage.FamilyFilter{Subject: "github:bob", IncludeRevoked: true}, []string{"bob-c1", "bob-c2-old"}},
		{storage.FamilyFilter{ClientID: "c1"}, []string{"alice-c1", "bob-c1"}},
		{storage.FamilyFilter{ClientID: "c2", IncludeRevoked: true}, []string{"alice-c2", "bob-c2-old"}},
		{storage.FamilyFilter{Subject: "github:alice", ClientID: "c2"}, []string{"alice-c2"}},
		{storage.FamilyFilter{Subject: "github:nobody", IncludeRevoked: true}, nil},
	} {
		l, err := s.ListRefreshFamilies(t.Context(), tc.f)
		must(t, err, "ListRefreshFamilies")
		check(t, "IDs listed for "+showFilter(tc.f), familyIDs(l), tc.want)
		for _, got := range l {
			check(t, "listed family "+got.ID, got, fams[got.ID])
		}
	}
}

func showFilter(f storage.FamilyFilter) string {
	return "subject=" + f.Subject + " client=" + f.ClientID + map[bool]string{true: " +revoked"}[f.IncludeRevoked]
}

// RevokeRefreshFamilies is the kill switch: it must report exactly what it
// revoked (each ID is then published to the revocation log) and never touch
// a family outside the filter or re-revoke one already revoked.
func testFamilyRevoke(t *testing.T, s storage.Store) {
	fams := familySet(t, s)
	now := at(time.Minute)

	ids, err := s.RevokeRefreshFamilies(t.Context(), storage.FamilyFilter{Subject: "github:bob"}, "kill switch", now)
	must(t, err, "RevokeRefreshFamilies by subject")
	slices.Sort(ids)
	check(t, "IDs revoked by subject", ids, []string{"bob-c1"})
	want := fams["bob-c1"]
	want.RevokedAt, want.RevokeReason = now, "kill switch"
	got, err := s.GetRefreshFamily(t.Context(), "bob-c1")
	must(t, err, "GetRefreshFamily")
	check(t, "revoked family", got, want)
	got, err = s.GetRefreshFamily(t.Context(), "bob-c2-old")
	must(t, err, "GetRefreshFamily")
	check(t, "family revoked before", got, fams["bob-c2-old"])

	ids, err = s.RevokeRefreshFamilies(t.Context(), storage.FamilyFilter{Subject: "github:bob"}, "again", now)
	must(t, err, "RevokeRefreshFamilies again")
	check(t, "IDs revoked by a repeated call", ids, nil)

	later := now.Add(time.Minute)
	ids, err = s.RevokeRefreshFamilies(t.Context(), storage.FamilyFilter{ClientID: "c1"}, "client deleted", later)
	must(t, err, "RevokeRefreshFamilies by client")
	check(t, "IDs revoked by client", ids, []string{"alice-c1"})
	got, err = s.GetRefreshFamily(t.Context(), "bob-c1")
	must(t, err, "GetRefreshFamily")
	if !got.RevokedAt.Equal(now) || got.RevokeReason != "kill switch" {
		t.Errorf("a second revocation rewrote bob-c1: %v %q", got.RevokedAt, got.RevokeReason)
	}

	ids, err = s.RevokeRefreshFamilies(t.Context(), storage.FamilyFilter{Subject: "github:alice", ClientID: "c1"}, "x", later)
	must(t, err, "RevokeRefreshFamilies by subject and client")
	check(t, "IDs revoked by subject and client", ids, nil)

	untouched, err := s.GetRefreshFamily(t.Context(), "alice-c2")
	must(t, err, "GetRefreshFamily")
	check(t, "family outside every filter", untouched, fams["alice-c2"])
	l, err := s.ListRefreshFamilies(t.Context(), storage.FamilyFilter{})
	must(t, err, "ListRefreshFamilies")
	check(t, "unrevoked families left", familyIDs(l), []string{"alice-c2"})
}

// checkFamilies fails the test unless the store holds exactly fams.
func checkFamilies(t *testing.T, s storage.Store, what string, fams map[string]storage.RefreshFamily) {
	t.Helper()
	l, err := s.ListRefreshFamilies(t.Context(), storage.FamilyFilter{IncludeRevoked: true})
	must(t, err, "ListRefreshFamilies")
	if len(l) != len(fams) {
		t.Errorf("%s: %d families, want %d", what, len(l), len(fams))
	}
	for _, got := range l {
		check(t, what+": family "+got.ID, got, fams[got.ID])
	}
}

// The kill switch called with a blank user (Subject and ClientID both
// empty) must never revoke every grant in the deployment: the filter is
// refused, whatever IncludeRevoked says, and nothing is revoked.
func testFamilyRevokeEmptyFilter(t *testing.T, s storage.Store) {
	fams := familySet(t, s)
	for _, f := range []storage.FamilyFilter{{}, {IncludeRevoked: true}} {
		ids, err := s.RevokeRefreshFamilies(t.Context(), f, "blank user", at(time.Minute))
		wantErr(t, err, storage.ErrInvalidArgument, "RevokeRefreshFamilies with an empty filter ("+showFilter(f)+")")
		if len(ids) > 0 {
			t.Errorf("refused RevokeRefreshFamilies reported %v revoked", ids)
		}
	}
	checkFamilies(t, s, "after a refused revocation", fams)
}

// A zero now would store RevokedAt zero, which reads as "not revoked": the
// kill switch would report success and revoke nothing. It is refused.
func testFamilyRevokeZeroNow(t *testing.T, s storage.Store) {
	fams := familySet(t, s)
	ids, err := s.RevokeRefreshFamilies(t.Context(), storage.FamilyFilter{Subject: "github:alice"}, "kill switch", time.Time{})
	wantErr(t, err, storage.ErrInvalidArgument, "RevokeRefreshFamilies with a zero now")
	if len(ids) > 0 {
		t.Errorf("refused RevokeRefreshFamilies reported %v revoked", ids)
	}
	checkFamilies(t, s, "after a refused revocation", fams)

	ids, err = s.RevokeRefreshFamilies(t.Context(), storage.FamilyFilter{Subject: "github:alice"}, "kill switch", at(time.Minute))
	must(t, err, "RevokeRefreshFamilies after a refused one")
	check(t, "IDs revoked after a refused revocation", ids, []string{"alice-c1", "alice-c2"})
}

// SPEC AS-4: a refresh can never move a grant to another client, user or
// upstream. The store keeps ID, ClientID, Subject and Resource whatever fn
// returns, and applies the rest of the update.
func testFamilyUpdateKeepsFixed(t *testing.T, s storage.Store) {
	f := newFamily("f1", "github:alice", "client-1")
	must(t, s.CreateRefreshFamily(t.Context(), f, newRefreshToken("t1", "f1")), "CreateRefreshFamily")
	err := s.UpdateRefreshFamily(t.Context(), "f1", func(g storage.RefreshFamily) (storage.RefreshFamily, error) {
		g.ClientID = "client-evil"
		g.Subject = "github:mallory"
		g.ProviderID = "evil-idp"
		g.Resource = "https://mcp.example/payroll"
		g.Scopes = []string{"mcp:read"}
		g.LastUsedAt = at(0)
		return g, nil
	})
	must(t, err, "UpdateRefreshFamily changing fixed fields (the store keeps them, it does not refuse)")
	want := f
	want.Scopes = []string{"mcp:read"}
	want.LastUsedAt = at(0)
	got, err := s.GetRefreshFamily(t.Context(), "f1")
	must(t, err, "GetRefreshFamily")
	check(t, "family after an update that changed its fixed fields", got, want)
	l, err := s.ListRefreshFamilies(t.Context(), storage.FamilyFilter{Subject: "github:mallory", IncludeRevoked: true})
	must(t, err, "ListRefreshFamilies")
	check(t, "families of the subject an update tried to move a grant to", familyIDs(l), nil)
}

// SPEC AS-4: a refresh can never widen a grant. An update may narrow the
// scopes and bring the absolute lifetime forward, never the reverse: a scope
// the grant does not have is dropped, and a later ExpiresAt (or a zero one,
// "no lifetime") leaves the stored one. The rest of the update lands, and
// Groups, which follow the user's directory, may grow.
func testFamilyUpdateCannotWiden(t *testing.T, s storage.Store) {
	ctx := t.Context()
	f := newFamily("f1", "github:alice", "client-1") // Scopes mcp:read, offline_access
	must(t, s.CreateRefreshFamily(ctx, f, newRefreshToken("t1", "f1")), "CreateRefreshFamily")
	want := f
	for _, tc := range []struct {
		what          string
		scopes        []string
		expires       time.Time
		wantScopes    []string
		wantExpiresAt time.Time
	}{
		{"adds a scope", []string{"mcp:read", "offline_access", "mcp:admin"}, f.ExpiresAt,
			[]string{"mcp:read", "offline_access"}, f.ExpiresAt},
		{"swaps a scope for a new one", []string{"mcp:admin", "mcp:read"}, f.ExpiresAt,
			[]string{"mcp:read"}, f.ExpiresAt},
		{"extends the lifetime", []string{"mcp:read"}, f.ExpiresAt.Add(365 * 24 * time.Hour),
			[]string{"mcp:read"}, f.ExpiresAt},
		{"clears the lifetime", []string{"mcp:read"}, time.Time{},
			[]string{"mcp:read"}, f.ExpiresAt},
		{"shortens the lifetime", []string{"mcp:read"}, f.ExpiresAt.Add(-time.Hour),
			[]string{"mcp:read"}, f.ExpiresAt.Add(-time.Hour)},
		{"restores a dropped scope", []string{"mcp:read", "offline_access"}, f.ExpiresAt,
			[]string{"mcp:read"}, f.ExpiresAt.Add(-time.Hour)},
		{"drops every scope", nil, f.ExpiresAt.Add(-time.Hour),
			nil, f.ExpiresAt.Add(-time.Hour)},
	} {
		groups := append(slices.Clip(want.Groups), "group-after-"+tc.what)
		err := s.UpdateRefreshFamily(ctx, "f1", func(g storage.RefreshFamily) (storage.RefreshFamily, error) {
			g.Scopes, g.ExpiresAt, g.Groups = tc.scopes, tc.expires, groups
			return g, nil
		})
		must(t, err, "UpdateRefreshFamily that "+tc.what+" (the store narrows, it does not refuse)")
		want.Scopes, want.ExpiresAt, want.Groups = tc.wantScopes, tc.wantExpiresAt, groups
		got, err := s.GetRefreshFamily(ctx, "f1")
		must(t, err, "GetRefreshFamily")
		check(t, "family after an update that "+tc.what, got, want)
	}

	// A family without an absolute lifetime may be given one.
	unbounded := newFamily("f2", "github:alice", "client-1")
	unbounded.ExpiresAt = time.Time{}
	must(t, s.CreateRefreshFamily(ctx, unbounded, newRefreshToken("u1", "f2")), "CreateRefreshFamily")
	must(t, s.UpdateRefreshFamily(ctx, "f2", func(g storage.RefreshFamily) (storage.RefreshFamily, error) {
		g.ExpiresAt = at(time.Hour)
		return g, nil
	}), "UpdateRefreshFamily giving a lifetime")
	got, err := s.GetRefreshFamily(ctx, "f2")
	must(t, err, "GetRefreshFamily")
	unbounded.ExpiresAt = at(time.Hour)
	check(t, "family given a lifetime", got, unbounded)
}

// Revocation is one-way (SPEC AS-5a): once RevokedAt is set, no update can
// clear or change it or its reason. An updater working from a stale copy
// would otherwise revive a grant the kill switch just revoked. Revoking by
// update is allowed, and the rest of an update to a revoked family lands.
func testFamilyRevocationOneWay(t *testing.T, s storage.Store) {
	ctx := t.Context()
	f := newFamily("f1", "github:alice", "client-1")
	must(t, s.CreateRefreshFamily(ctx, f, newRefreshToken("t1", "f1")), "CreateRefreshFamily")
	stale := f // what a slow request read before the revocation

	// Revoking by update is allowed.
	must(t, s.UpdateRefreshFamily(ctx, "f1", func(g storage.RefreshFamily) (storage.RefreshFamily, error) {
		g.RevokedAt, g.RevokeReason = at(0), "logout"
		return g, nil
	}), "UpdateRefreshFamily revoking")
	want := f
	want.RevokedAt, want.RevokeReason = at(0), "logout"
	got, err := s.GetRefreshFamily(ctx, "f1")
	must(t, err, "GetRefreshFamily")
	check(t, "family revoked by update", got, want)

	for _, tc := range []struct {
		what string
		fn   func(storage.RefreshFamily) storage.RefreshFamily
	}{
		{"clears the revocation", func(g storage.RefreshFamily) storage.RefreshFamily {
			g.RevokedAt, g.RevokeReason = time.Time{}, ""
			return g
		}},
		{"moves the revocation", func(g storage.RefreshFamily) storage.RefreshFamily {
			g.RevokedAt, g.RevokeReason = at(time.Hour), "something else"
			return g
		}},
		{"writes back a stale unrevoked copy", func(storage.RefreshFamily) storage.RefreshFamily {
			return stale
		}},
	} {
		lastUsed := got.LastUsedAt.Add(time.Minute)
		err := s.UpdateRefreshFamily(ctx, "f1", func(g storage.RefreshFamily) (storage.RefreshFamily, error) {
			g = tc.fn(g)
			g.LastUsedAt = lastUsed
			return g, nil
		})
		must(t, err, "UpdateRefreshFamily that "+tc.what+" (the store keeps the revocation, it does not refuse)")
		want.LastUsedAt = lastUsed
		got, err = s.GetRefreshFamily(ctx, "f1")
		must(t, err, "GetRefreshFamily")
		check(t, "revoked family after an update that "+tc.what, got, want)
	}

	_, err = s.RotateRefreshToken(ctx, rotation("t1", "t2", at(2*time.Hour)))
	wantErr(t, err, storage.ErrRevoked, "RotateRefreshToken in a family an update tried to revive")
}
