package storagetest

import (
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var rotationTests = []testCase{
	{"Rotate", testRotate},
	{"RotateUsed", testRotateUsed},
	{"RotateRevoked", testRotateRevoked},
	{"RotateUnknown", testRotateUnknown},
	{"SuccessorIDTaken", testRotateSuccessorTaken},
	{"SuccessorInOtherFamily", testRotateOtherFamily},
	{"ZeroNow", testRotateZeroNow},
}

// rotationFixture creates family f1 with first token t1 and returns both.
func rotationFixture(t *testing.T, s storage.Store) (storage.RefreshFamily, storage.RefreshToken) {
	t.Helper()
	f := newFamily("f1", "github:alice", "client-1")
	tok := newRefreshToken("t1", "f1")
	must(t, s.CreateRefreshFamily(t.Context(), f, tok), "CreateRefreshFamily")
	return f, tok
}

func rotation(oldID, newID string, now time.Time) storage.Rotation {
	succ := newRefreshToken(newID, "f1")
	succ.CreatedAt = now
	return storage.Rotation{
		OldID:           oldID,
		Successor:       succ,
		SuccessorSealed: []byte("sealed handle of " + newID),
		GraceUntil:      now.Add(30 * time.Second),
		Now:             now,
	}
}

// rotated is old as a successful rotation r leaves it.
func rotated(old storage.RefreshToken, r storage.Rotation) storage.RefreshToken {
	old.UsedAt = r.Now
	old.SuccessorID = r.Successor.ID
	old.SuccessorSealed = r.SuccessorSealed
	old.GraceUntil = r.GraceUntil
	return old
}

// RotateRefreshToken returns the old token as the rotation left it, the
// way ConsumeAuthCode returns the consumed code; losers of a race get the
// same record with ErrConsumed.
func testRotate(t *testing.T, s storage.Store) {
	f, t1 := rotationFixture(t, s)
	r := rotation("t1", "t2", at(time.Minute))

	got, err := s.RotateRefreshToken(t.Context(), r)
	must(t, err, "RotateRefreshToken")
	check(t, "old token returned by RotateRefreshToken", got, rotated(t1, r))
	stored, err := s.GetRefreshToken(t.Context(), "t1")
	must(t, err, "GetRefreshToken(old)")
	check(t, "old token after rotation", stored, rotated(t1, r))
	succ, err := s.GetRefreshToken(t.Context(), "t2")
	must(t, err, "GetRefreshToken(successor)")
	check(t, "successor", succ, r.Successor)

	fam, err := s.GetRefreshFamily(t.Context(), "f1")
	must(t, err, "GetRefreshFamily")
	f.LastUsedAt = r.Now // the idle timeout restarts
	check(t, "family after rotation", fam, f)

	// The successor rotates in its turn.
	r2 := rotation("t2", "t3", at(2*time.Minute))
	_, err = s.RotateRefreshToken(t.Context(), r2)
	must(t, err, "RotateRefreshToken of the successor")
	fam, err = s.GetRefreshFamily(t.Context(), "f1")
	must(t, err, "GetRefreshFamily")
	if !fam.LastUsedAt.Equal(r2.Now) {
		t.Errorf("family LastUsedAt = %v after the second rotation, want %v", fam.LastUsedAt, r2.Now)
	}
}

// RFC 9700 §4.14.2: a refresh token is single-use. A second rotation of the
// same token fails and changes nothing, and hands back the old token whose
// SuccessorID and SuccessorSealed let the caller tell a retry within the
// grace window (SPEC AS-6) from reuse.
func testRotateUsed(t *testing.T, s storage.Store) {
	f, t1 := rotationFixture(t, s)
	r := rotation("t1", "t2", at(time.Minute))
	_, err := s.RotateRefreshToken(t.Context(), r)
	must(t, err, "first RotateRefreshToken")

	got, err := s.RotateRefreshToken(t.Context(), rotation("t1", "t3", at(2*time.Minute)))
	wantErr(t, err, storage.ErrConsumed, "second RotateRefreshToken of the same token")
	check(t, "old token returned with ErrConsumed", got, rotated(t1, r))
	f.LastUsedAt = r.Now // the refused rotation does not count as use
	wantUnchanged(t, s, "t3", rotated(t1, r), f)
}

// wantUnchanged asserts that a refused rotation left everything as it was:
// no successor stored, the old token and its family as given.
func wantUnchanged(t *testing.T, s storage.Store, successorID string, old storage.RefreshToken, fam storage.RefreshFamily) {
	t.Helper()
	_, err := s.GetRefreshToken(t.Context(), successorID)
	wantErr(t, err, storage.ErrNotFound, "successor of a refused rotation")
	stored, err := s.GetRefreshToken(t.Context(), old.ID)
	must(t, err, "GetRefreshToken")
	check(t, "old token after a refused rotation", stored, old)
	gotFam, err := s.GetRefreshFamily(t.Context(), fam.ID)
	must(t, err, "GetRefreshFamily")
	check(t, "family after a refused rotation", gotFam, fam)
}

// A revoked family outranks reuse: a replayed token of a revoked grant gets
// ErrRevoked, not the ErrConsumed whose grace path would hand out the sealed
// successor of a grant that no longer exists (SPEC AS-5a, AS-6).
func testRotateRevoked(t *testing.T, s storage.Store) {
	_, t1 := rotationFixture(t, s)
	first := rotation("t1", "t2", at(time.Minute))
	_, err := s.RotateRefreshToken(t.Context(), first)
	must(t, err, "RotateRefreshToken")
	_, err = s.RevokeRefreshFamilies(t.Context(), storage.FamilyFilter{Subject: "github:alice"}, "reuse", at(2*time.Minute))
	must(t, err, "RevokeRefreshFamilies")

	_, err = s.RotateRefreshToken(t.Context(), rotation("t2", "t3", at(3*time.Minute)))
	wantErr(t, err, storage.ErrRevoked, "RotateRefreshToken in a revoked family")
	_, err = s.RotateRefreshToken(t.Context(), rotation("t1", "t4", at(3*time.Minute)))
	wantErr(t, err, storage.ErrRevoked, "RotateRefreshToken of a used token in a revoked family")

	stored, err := s.GetRefreshToken(t.Context(), "t2")
	must(t, err, "GetRefreshToken")
	check(t, "token after rotation in a revoked family", stored, first.Successor)
	stored, err = s.GetRefreshToken(t.Context(), "t1")
	must(t, err, "GetRefreshToken")
	check(t, "used token after rotation in a revoked family", stored, rotated(t1, first))
	for _, id := range []string{"t3", "t4"} {
		_, err = s.GetRefreshToken(t.Context(), id)
		wantErr(t, err, storage.ErrNotFound, "successor in a revoked family")
	}
}

// The successor joins the old token's family, or revoking the family on
// reuse would miss it. It is a caller bug (ErrInvalidArgument), and nothing
// changes.
func testRotateOtherFamily(t *testing.T, s storage.Store) {
	f, t1 := rotationFixture(t, s)
	must(t, s.CreateRefreshFamily(t.Context(), newFamily("f2", "github:alice", "client-1"), newRefreshToken("u1", "f2")),
		"CreateRefreshFamily")
	r := rotation("t1", "t2", at(time.Minute))
	r.Successor.FamilyID = "f2"
	_, err := s.RotateRefreshToken(t.Context(), r)
	wantErr(t, err, storage.ErrInvalidArgument, "RotateRefreshToken of a successor in another family")
	wantUnchanged(t, s, "t2", t1, f)
}

func testRotateUnknown(t *testing.T, s storage.Store) {
	rotationFixture(t, s)
	_, err := s.RotateRefreshToken(t.Context(), rotation("nope", "t2", at(time.Minute)))
	wantErr(t, err, storage.ErrNotFound, "RotateRefreshToken of an unknown token")
	_, err = s.GetRefreshToken(t.Context(), "t2")
	wantErr(t, err, storage.ErrNotFound, "successor of an unknown token")
}

// A successor whose ID is taken is refused as a Create would be, and the
// rotation is all or nothing: the old token stays unused.
func testRotateSuccessorTaken(t *testing.T, s storage.Store) {
	_, t1 := rotationFixture(t, s)
	other := newFamily("f2", "github:bob", "client-1")
	otherTok := newRefreshToken("taken", "f2")
	must(t, s.CreateRefreshFamily(t.Context(), other, otherTok), "CreateRefreshFamily")

	_, err := s.RotateRefreshToken(t.Context(), rotation("t1", "taken", at(time.Minute)))
	wantErr(t, err, storage.ErrAlreadyExists, "RotateRefreshToken to a taken successor ID")
	stored, err := s.GetRefreshToken(t.Context(), "t1")
	must(t, err, "GetRefreshToken")
	check(t, "old token after a refused rotation", stored, t1)
	stored, err = s.GetRefreshToken(t.Context(), "taken")
	must(t, err, "GetRefreshToken")
	check(t, "token whose ID the rotation tried to take", stored, otherTok)
}

// A zero Rotation.Now would store UsedAt zero, which reads as "unused": the
// old token would rotate again and reuse would go undetected (RFC 9700
// §4.14.2). The store refuses it and nothing changes.
func testRotateZeroNow(t *testing.T, s storage.Store) {
	f, t1 := rotationFixture(t, s)
	r := rotation("t1", "t2", at(time.Minute))
	r.Now = time.Time{}
	_, err := s.RotateRefreshToken(t.Context(), r)
	wantErr(t, err, storage.ErrInvalidArgument, "RotateRefreshToken with a zero Now")

	wantUnchanged(t, s, "t2", t1, f)

	// The token's single use is still ahead.
	r.Now = at(time.Minute)
	got, err := s.RotateRefreshToken(t.Context(), r)
	must(t, err, "RotateRefreshToken after a refused one")
	check(t, "old token rotated after a refused rotation", got, rotated(t1, r))
}
