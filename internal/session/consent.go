package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Consent is the confused-deputy defence of SPEC AS-3: mcpgate holds one
// upstream login for many clients, so a client the user never approved
// (a look-alike registered through DCR or CIMD) must not ride that login.
// An approval is stored per (user, client, redirect URI, resource) and
// answers only for exactly that key: approving a client's localhost
// redirect never stands in for its https one, nor approving one resource
// for another.

// ConsentCovers reports whether the stored approval c covers a request for
// scopes at now: c is unexpired (its ExpiresAt is zero or not before now,
// as for every storage record) and approved every requested scope. Anything
// broader asks again (SPEC AS-3). Scopes are compared exactly; the scope
// hierarchy of SPEC AS-9 is the caller's to expand before asking. A zero
// Consent (GrantedAt unset) covers nothing, so a record nobody granted can
// never pass for one.
func ConsentCovers(c storage.Consent, scopes []string, now time.Time) bool {
	if !live(c, now) {
		return false
	}
	for _, s := range scopes {
		if !slices.Contains(c.Scopes, s) {
			return false
		}
	}
	return true
}

// live reports whether c is a granted, unexpired approval.
func live(c storage.Consent, now time.Time) bool {
	return !c.GrantedAt.IsZero() && (c.ExpiresAt.IsZero() || !now.After(c.ExpiresAt))
}

// Consents reads and writes users' approvals.
type Consents struct {
	Store storage.ConsentStore
	// TTL bounds an approval's life; zero keeps it until revoked.
	TTL time.Duration
	Now func() time.Time // default time.Now
	// Audit receives consent_revoked; may be nil. consent_granted is the
	// consent handler's to record: it knows the request's IP and ID.
	Audit func(ctx context.Context, e audit.Event)
}

func (c *Consents) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// checkKey refuses a consent key with an empty part: an approval must name
// exactly whom, which client, where the code goes and for what resource.
func checkKey(subject, clientID, redirectURI, resource string) error {
	if subject == "" || clientID == "" || redirectURI == "" || resource == "" {
		return fmt.Errorf("%w: consent key with an empty part", ErrInvalid)
	}
	return nil
}

// Covers reports whether subject has a live approval for exactly this
// client, redirect URI and resource that includes every scope requested.
// No approval is false with a nil error; a store failure is an error, and
// the caller must then ask rather than assume.
func (c *Consents) Covers(ctx context.Context, subject, clientID, redirectURI, resource string, scopes []string) (bool, error) {
	if err := checkKey(subject, clientID, redirectURI, resource); err != nil {
		return false, err
	}
	got, err := c.Store.GetConsent(ctx, subject, clientID, redirectURI, resource)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("session: get consent: %w", err)
	}
	return ConsentCovers(got, scopes, c.now()), nil
}

// Grant records that subject approved scopes for the key, merged with the
// scopes a still-live approval for the same key already holds, and restarts
// its TTL. Merging, rather than storing only the latest approval, keeps
// every scope the user has explicitly approved for this exact key: storing
// only the latest would make a narrow request (read) forget an earlier
// broad approval (read, write) and re-prompt for it, training users to
// click through consent pages. It never widens beyond what the user
// approved on some page for this key; an expired approval is not merged.
//
// Two concurrent grants for one key may race and one set may be lost; the
// user is then asked again, which is safe.
func (c *Consents) Grant(ctx context.Context, subject, clientID, redirectURI, resource string, scopes []string) error {
	if err := checkKey(subject, clientID, redirectURI, resource); err != nil {
		return err
	}
	now := c.now()
	merged := slices.Clone(scopes)
	old, err := c.Store.GetConsent(ctx, subject, clientID, redirectURI, resource)
	switch {
	case err == nil && live(old, now):
		merged = append(merged, old.Scopes...)
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("session: get consent: %w", err)
	}
	slices.Sort(merged)
	rec := storage.Consent{
		Subject: subject, ClientID: clientID, RedirectURI: redirectURI, Resource: resource,
		Scopes: slices.Compact(merged), GrantedAt: now,
	}
	if c.TTL > 0 {
		rec.ExpiresAt = now.Add(c.TTL)
	}
	if err := c.Store.PutConsent(ctx, rec); err != nil {
		return fmt.Errorf("session: put consent: %w", err)
	}
	return nil
}

// List returns subject's live approvals, for the user's account page and
// the admin API (SPEC AS-3: approvals are listable). An empty subject is
// refused: it would list everyone's.
func (c *Consents) List(ctx context.Context, subject string) ([]storage.Consent, error) {
	if subject == "" {
		return nil, fmt.Errorf("%w: empty subject", ErrInvalid)
	}
	all, err := c.Store.ListConsents(ctx, storage.ConsentFilter{Subject: subject})
	if err != nil {
		return nil, fmt.Errorf("session: list consents: %w", err)
	}
	now := c.now()
	return slices.DeleteFunc(all, func(x storage.Consent) bool { return !live(x, now) }), nil
}

// Revoke deletes subject's approvals of clientID (every client when
// clientID is empty) and returns how many there were, so the next
// authorization asks again. Tokens already issued are the caller's to
// revoke too (tokens.Refresher.RevokeFamily for the client's families;
// SPEC AS-5a). An empty subject is refused: it would revoke a client's
// approvals for every user.
func (c *Consents) Revoke(ctx context.Context, subject, clientID string) (int, error) {
	if subject == "" {
		return 0, fmt.Errorf("%w: empty subject", ErrInvalid)
	}
	n, err := c.Store.DeleteConsents(ctx, storage.ConsentFilter{Subject: subject, ClientID: clientID})
	if err != nil {
		return 0, fmt.Errorf("session: revoke consents: %w", err)
	}
	if n > 0 && c.Audit != nil {
		c.Audit(ctx, audit.Event{
			Type: audit.ConsentRevoked, User: subject, Client: clientID,
			Details: map[string]any{"count": n},
		})
	}
	return n, nil
}
