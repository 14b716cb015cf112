package storage

import (
	"fmt"
	"time"
)

// The refusals storage.go promises (ErrInvalidArgument), written once so
// that every backend applies the same rule: each backend calls these before
// it writes anything (and all but CheckSuccessor, which needs the old
// token's family, before it reads anything). A backend that cannot store
// every time apart from zero checks the time as it would store it
// (sqlstore: the Unix epoch encodes as zero, so it is refused as a zero
// now).

func invalid(op, why string) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidArgument, op, why)
}

// CheckNow refuses a zero now for op (ConsumeAuthCode, RotateRefreshToken,
// RevokeRefreshFamilies): zero doubles as "unused" and "not revoked", so a
// zero now would leave a code or token reusable, or revoke nothing.
func CheckNow(op string, now time.Time) error {
	if now.IsZero() {
		return invalid(op, "zero now")
	}
	return nil
}

// CheckLease refuses AcquireLease with a zero now or a zero expiry: a lease
// that never expires would outlive a crashed holder.
func CheckLease(now, expires time.Time) error {
	if now.IsZero() || expires.IsZero() {
		return invalid("acquire lease", "zero now or expiry")
	}
	return nil
}

// CheckFamilyFilter refuses a RevokeRefreshFamilies filter that names
// neither a subject nor a client: the kill switch called with a blank user
// would revoke every grant in the deployment.
func CheckFamilyFilter(f FamilyFilter) error {
	if f.Subject == "" && f.ClientID == "" {
		return invalid("revoke refresh families", "empty filter")
	}
	return nil
}

// CheckConsentFilter refuses a DeleteConsents filter whose fields are all
// empty: it would delete every consent.
func CheckConsentFilter(f ConsentFilter) error {
	if f.Subject == "" && f.ClientID == "" {
		return invalid("delete consents", "empty filter")
	}
	return nil
}

// CheckSubject refuses an empty subject for op, a per-user bulk delete
// (DeleteBrowserSessions, DeleteUpstreamTokens): a kill switch called with
// a blank user must not log everyone out.
func CheckSubject(op, subject string) error {
	if subject == "" {
		return invalid(op, "empty subject")
	}
	return nil
}

// CheckCodeHash refuses an empty authorization-code hash for op
// (CreateAuthCode, ConsumeAuthCode). Callers pass the SHA-256 of the code,
// never empty; an empty hash is a caller that lost the code, and a record
// under it would be consumable by anyone else who lost theirs.
func CheckCodeHash(op string, hash []byte) error {
	if len(hash) == 0 {
		return invalid(op, "empty code hash")
	}
	return nil
}

// CheckSuccessor refuses a rotation whose successor is not in familyID, the
// old token's family: revoking the family on reuse would miss it.
func CheckSuccessor(familyID string, r Rotation) error {
	if r.Successor.FamilyID != familyID {
		return invalid("rotate refresh token", fmt.Sprintf("successor of %q is in family %q, not %q",
			r.OldID, r.Successor.FamilyID, familyID))
	}
	return nil
}
