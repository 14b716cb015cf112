package storage

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// The pure rules every backend applies. storagetest checks that the
// backends apply them; these check the rules themselves, case by case.

var t0 = time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)

func TestKeepFixedNarrowsOnly(t *testing.T) {
	stored := RefreshFamily{ID: "f1", Scopes: []string{"read", "write"}, ExpiresAt: t0}
	for _, tc := range []struct {
		name          string
		scopes        []string
		expires       time.Time
		stored        time.Time // stored ExpiresAt, if not t0
		wantScopes    []string
		wantExpiresAt time.Time
	}{
		{"unchanged", []string{"read", "write"}, t0, t0, []string{"read", "write"}, t0},
		{"narrowed", []string{"write"}, t0, t0, []string{"write"}, t0},
		{"widened", []string{"write", "admin", "read"}, t0, t0, []string{"write", "read"}, t0},
		{"emptied", nil, t0, t0, nil, t0},
		{"shortened", nil, t0.Add(-time.Hour), t0, nil, t0.Add(-time.Hour)},
		{"extended", nil, t0.Add(time.Hour), t0, nil, t0},
		{"cleared", nil, time.Time{}, t0, nil, t0},
		{"given a lifetime", nil, t0, time.Time{}, nil, t0},
		{"left without one", nil, time.Time{}, time.Time{}, nil, time.Time{}},
	} {
		f := stored
		f.ExpiresAt = tc.stored
		next := f
		next.Scopes, next.ExpiresAt = tc.scopes, tc.expires
		got := f.KeepFixed(next)
		if !slices.Equal(got.Scopes, tc.wantScopes) || !got.ExpiresAt.Equal(tc.wantExpiresAt) {
			t.Errorf("%s: got scopes %q expiring %v, want %q expiring %v",
				tc.name, got.Scopes, got.ExpiresAt, tc.wantScopes, tc.wantExpiresAt)
		}
	}
	// next's scopes are copied, not filtered in place under the caller.
	mine := []string{"admin", "read"}
	stored.KeepFixed(RefreshFamily{Scopes: mine})
	if !slices.Equal(mine, []string{"admin", "read"}) {
		t.Errorf("KeepFixed changed the caller's slice to %q", mine)
	}
}

func TestRevocationSupersede(t *testing.T) {
	never := time.Time{}
	for _, tc := range []struct {
		name            string
		oldNB, oldExp   time.Time
		nextNB, nextExp time.Time
		wantNB, wantExp time.Time
	}{
		{"newer", t0, t0.Add(time.Hour), t0.Add(time.Minute), t0.Add(2 * time.Hour), t0.Add(time.Minute), t0.Add(2 * time.Hour)},
		{"older, landing late", t0.Add(time.Minute), t0.Add(2 * time.Hour), t0, t0.Add(time.Hour), t0.Add(time.Minute), t0.Add(2 * time.Hour)},
		{"later epoch, shorter life", t0, t0.Add(2 * time.Hour), t0.Add(time.Minute), t0.Add(time.Hour), t0.Add(time.Minute), t0.Add(2 * time.Hour)},
		{"zero NotBefore", t0, t0, never, t0, t0, t0},
		{"first NotBefore", never, t0, t0, t0, t0, t0},
		{"never expiring, then expiring", t0, never, t0, t0, t0, never},
		{"expiring, then never", t0, t0, t0, never, t0, never},
	} {
		old := Revocation{Kind: RevokeUser, Key: "alice", Reason: "old", NotBefore: tc.oldNB, CreatedAt: t0, ExpiresAt: tc.oldExp}
		next := Revocation{Kind: RevokeUser, Key: "alice", Reason: "next", NotBefore: tc.nextNB, CreatedAt: t0.Add(-time.Second), ExpiresAt: tc.nextExp}
		got := old.Supersede(next)
		want := next
		want.NotBefore, want.ExpiresAt = tc.wantNB, tc.wantExp
		if got != want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, want)
		}
	}
}

func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		refused bool
	}{
		{"CheckNow zero", CheckNow("op", time.Time{}), true},
		{"CheckNow set", CheckNow("op", t0), false},
		{"CheckLease zero now", CheckLease(time.Time{}, t0), true},
		{"CheckLease zero expiry", CheckLease(t0, time.Time{}), true},
		{"CheckLease set", CheckLease(t0, t0), false},
		{"CheckFamilyFilter empty", CheckFamilyFilter(FamilyFilter{IncludeRevoked: true}), true},
		{"CheckFamilyFilter subject", CheckFamilyFilter(FamilyFilter{Subject: "alice"}), false},
		{"CheckFamilyFilter client", CheckFamilyFilter(FamilyFilter{ClientID: "c1"}), false},
		{"CheckConsentFilter empty", CheckConsentFilter(ConsentFilter{}), true},
		{"CheckConsentFilter client", CheckConsentFilter(ConsentFilter{ClientID: "c1"}), false},
		{"CheckSubject empty", CheckSubject("op", ""), true},
		{"CheckSubject set", CheckSubject("op", "alice"), false},
		{"CheckCodeHash nil", CheckCodeHash("op", nil), true},
		{"CheckCodeHash empty", CheckCodeHash("op", []byte{}), true},
		{"CheckCodeHash set", CheckCodeHash("op", []byte{0}), false},
		{"CheckSuccessor other family", CheckSuccessor("f1", Rotation{Successor: RefreshToken{FamilyID: "f2"}}), true},
		{"CheckSuccessor same family", CheckSuccessor("f1", Rotation{Successor: RefreshToken{FamilyID: "f1"}}), false},
	} {
		if got := errors.Is(tc.err, ErrInvalidArgument); got != tc.refused || (!tc.refused && tc.err != nil) {
			t.Errorf("%s: got %v, want refused=%v", tc.name, tc.err, tc.refused)
		}
	}
}
