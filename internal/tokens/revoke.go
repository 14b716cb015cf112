package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// RevokeFamily revokes one refresh family (RFC 7009 revocation, code
// replay, consent revoked) and, through the revocation log, every access
// token minted from it (SPEC AS-5a). A family already revoked keeps its
// first reason; the log entry is written again, which is harmless.
func (r *Refresher) RevokeFamily(ctx context.Context, familyID, reason string) error {
	_, err := r.revokeFamily(ctx, familyID, reason, now(r.Now))
	return err
}

// RevokeUser is the kill switch (SPEC AS-5a): it revokes every refresh
// family of subject, then sets the user's epoch to now so that every
// access token issued up to this second is rejected, and returns the IDs
// of the families it revoked. The families are revoked first, so a
// refresh racing the kill switch either fails or mints a token that the
// epoch (or its family's own log entry) rejects.
func (r *Refresher) RevokeUser(ctx context.Context, subject, reason string) ([]string, error) {
	if subject == "" {
		return nil, errors.New("tokens: revoke user: empty subject")
	}
	t := now(r.Now)
	ids, err := r.Store.RevokeRefreshFamilies(ctx, storage.FamilyFilter{Subject: subject}, reason, t)
	if err != nil {
		return nil, fmt.Errorf("tokens: revoke families: %w", err)
	}
	t = now(r.Now)
	// The epoch outlives every grant that could predate it: a family
	// created from a code issued just before the kill switch, on an
	// instance that had not seen it yet, lives up to the refresh TTL, and
	// its refreshes are refused by its auth_time for as long as the entry
	// lives.
	user := storage.Revocation{
		Kind: storage.RevokeUser, Key: subject, Reason: reason,
		NotBefore: t, CreatedAt: t, ExpiresAt: r.grantExpiry(t),
	}
	if err := r.publish(ctx, user); err != nil {
		return ids, err
	}
	// A rotation that won against RevokeRefreshFamilies may mint its
	// access token in a later second than the epoch; the family entry
	// still rejects it.
	for _, id := range ids {
		if err := r.publish(ctx, r.familyRevocation(id, reason, t)); err != nil {
			return ids, err
		}
	}
	return ids, nil
}

// RevokeGrants revokes every family subject holds for clientID (consent
// revoked, SPEC AS-5a), access tokens included, and returns their IDs.
func (r *Refresher) RevokeGrants(ctx context.Context, subject, clientID, reason string) ([]string, error) {
	if subject == "" || clientID == "" {
		return nil, errors.New("tokens: revoke grants: empty subject or client")
	}
	t := now(r.Now)
	ids, err := r.Store.RevokeRefreshFamilies(ctx, storage.FamilyFilter{Subject: subject, ClientID: clientID}, reason, t)
	if err != nil {
		return nil, fmt.Errorf("tokens: revoke families: %w", err)
	}
	for _, id := range ids {
		if err := r.publish(ctx, r.familyRevocation(id, reason, t)); err != nil {
			return ids, err
		}
	}
	return ids, nil
}

// revokeFamily marks the family revoked in the store, then publishes a
// log entry for its access tokens, and returns the family as stored.
func (r *Refresher) revokeFamily(ctx context.Context, id, reason string, t time.Time) (storage.RefreshFamily, error) {
	err := r.Store.UpdateRefreshFamily(ctx, id, func(f storage.RefreshFamily) (storage.RefreshFamily, error) {
		if !f.Revoked() {
			f.RevokedAt, f.RevokeReason = t, reason
		}
		return f, nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		// A grant without refresh tokens (a client not registered for the
		// refresh_token grant) has a sid but no family record; its access
		// tokens still die through the log. So does a family not created
		// yet: a replayed code racing the first exchange of that code. The
		// entry then lives as long as that family could, and Rotate
		// refuses a family the log revokes.
		rev := storage.RefreshFamily{ID: id, RevokedAt: t, RevokeReason: reason}
		entry := r.familyRevocation(id, reason, t)
		entry.ExpiresAt = r.grantExpiry(t)
		return rev, r.publish(ctx, entry)
	}
	if err != nil {
		return storage.RefreshFamily{}, fmt.Errorf("tokens: revoke family: %w", err)
	}
	if err := r.publish(ctx, r.familyRevocation(id, reason, t)); err != nil {
		return storage.RefreshFamily{}, err
	}
	f, err := r.Store.GetRefreshFamily(ctx, id)
	if err != nil {
		return storage.RefreshFamily{}, fmt.Errorf("tokens: reload revoked family: %w", err)
	}
	return f, nil
}

func (r *Refresher) familyRevocation(id, reason string, t time.Time) storage.Revocation {
	return storage.Revocation{
		Kind: storage.RevokeFamily, Key: id, Reason: reason, CreatedAt: t, ExpiresAt: r.logExpiry(t),
	}
}

// publish applies rev to the local cache at once (this instance must
// reject the tokens immediately) and appends it to the log the other
// instances poll.
func (r *Refresher) publish(ctx context.Context, rev storage.Revocation) error {
	if r.Cache != nil {
		r.Cache.Add(rev)
	}
	if err := r.Revocations.AddRevocation(ctx, rev); err != nil {
		return fmt.Errorf("tokens: write revocation log: %w", err)
	}
	return nil
}

// grantExpiry is when no refresh family that exists, or is created, by t
// can still be used: its absolute lifetime, plus the skews of logExpiry.
func (r *Refresher) grantExpiry(t time.Time) time.Time {
	return r.logExpiry(t.Add(orDefault(r.TTL, DefaultRefreshTTL)))
}

// logExpiry is when no access token a revocation at t can affect is still
// accepted anywhere: a token minted by t expires by t+AccessTTL, and a
// verifier accepts it for Skew longer. A second Skew covers the clock
// difference between the instance that minted and the one that revoked.
func (r *Refresher) logExpiry(t time.Time) time.Time {
	return t.Add(orDefault(r.AccessTTL, DefaultAccessTTL) + 2*orDefault(r.Skew, DefaultSkew))
}
