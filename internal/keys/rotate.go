package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// leaseName is the storage lease held while creating or rotating keys, so
// that instances sharing a store do not all rotate at the same tick.
const leaseName = "keys-rotate"

// leaseTTL bounds how long a crashed holder blocks the others. Generating
// an RSA-3072 key takes well under a second, so this is ample.
const leaseTTL = time.Minute

// Why a key was made, for the audit event.
const (
	reasonFirst     = "first"
	reasonManual    = "manual"
	reasonScheduled = "scheduled"
)

// Rotate creates a key that is published now and signs from now +
// PublishAhead; every key still due to sign after that retires then, and
// stays published TokenTTL (plus clock skew) longer, until every token it
// signed has expired (SPEC OP-4). Until the new key's ActiveAt the current
// key keeps signing, so verifiers that poll the JWKS see the new key
// before any token names it. It fails with storage.ErrLeaseHeld while
// another instance is rotating.
func (m *Manager) Rotate(ctx context.Context) (storage.SigningKey, error) {
	return m.rotate(ctx, false)
}

// rotate rotates under the lease. A scheduled rotation happens only if it
// is still due once the lease is held (another instance may just have done
// it); otherwise it returns the zero key.
func (m *Manager) rotate(ctx context.Context, scheduled bool) (storage.SigningKey, error) {
	release, err := m.lease(ctx)
	if err != nil {
		return storage.SigningKey{}, err
	}
	defer release()
	// Decide on the store's current keys, not this instance's last poll.
	problems, err := m.reload(ctx)
	if err != nil {
		return storage.SigningKey{}, err
	}
	if problems != nil {
		m.o.Log.Warn("keys: keys left out", "err", problems)
	}
	now, reason := m.now(), reasonManual
	if scheduled {
		if !m.due(now) {
			return storage.SigningKey{}, nil
		}
		reason = reasonScheduled
	}
	return m.add(ctx, now, now.Add(m.o.PublishAhead), reason)
}

// createFirst creates a key that signs at once, for a store with no key
// that can sign now. If another instance holds the lease it is probably
// doing the same; when its key has not landed yet this one creates its own
// anyway, rather than wait: the later key wins on every instance (see
// after), and the earlier one is retired by the later creation if that saw
// it, else by the next rotation.
func (m *Manager) createFirst(ctx context.Context) error {
	release, err := m.lease(ctx)
	switch {
	case errors.Is(err, storage.ErrLeaseHeld):
	case err != nil:
		return err
	default:
		defer release()
	}
	if _, err := m.reload(ctx); err != nil {
		return err
	}
	if m.Ready() {
		return nil
	}
	now := m.now()
	_, err = m.add(ctx, now, now, reasonFirst)
	return err
}

// add stores a new key, retires the keys it supersedes, reloads and audits.
// The new key is stored first: a crash in between leaves two keys that
// may sign, which after resolves, rather than no key that signs.
func (m *Manager) add(ctx context.Context, now, activeAt time.Time, reason string) (storage.SigningKey, error) {
	k, err := newKey(m.o.Seal, m.o.Algorithm, now, activeAt)
	if err != nil {
		return storage.SigningKey{}, err
	}
	if err := m.o.Store.CreateSigningKey(ctx, k); err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: store new key: %w", err)
	}
	if err := m.retireBefore(ctx, k); err != nil {
		return k, err
	}
	if err := m.Reload(ctx); err != nil {
		m.o.Log.Warn("keys: reload after new key", "err", err)
	}
	m.o.Log.Info("keys: new signing key", "kid", k.ID, "algorithm", k.Algorithm, "active_at", k.ActiveAt, "reason", reason)
	if m.o.Audit != nil {
		m.o.Audit(ctx, audit.Event{Type: audit.KeyRotated, Details: map[string]any{
			"kid": k.ID, "algorithm": k.Algorithm, "active_at": k.ActiveAt.UTC().Format(time.RFC3339), "reason": reason,
		}})
	}
	return k, nil
}

// retireBefore ends the signing window of every key that k supersedes at
// k's ActiveAt, and keeps it published until every token it may sign has
// expired. Each change is a compare-and-swap that re-checks the stored
// record, so a key another instance retired earlier keeps its earlier time.
func (m *Manager) retireBefore(ctx context.Context, k storage.SigningKey) error {
	retire := func(o storage.SigningKey) bool {
		return o.ID != k.ID && after(k, o) && (o.RetiredAt.IsZero() || o.RetiredAt.After(k.ActiveAt))
	}
	for _, o := range m.snap.Load().records() {
		if !retire(o) {
			continue
		}
		err := m.o.Store.UpdateSigningKey(ctx, o.ID, func(cur storage.SigningKey) (storage.SigningKey, error) {
			if retire(cur) {
				cur.RetiredAt = k.ActiveAt
				cur.ExpiresAt = k.ActiveAt.Add(m.o.TokenTTL + clockSkew)
			}
			return cur, nil
		})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("keys: retire key %q: %w", o.ID, err)
		}
	}
	return nil
}

// due reports whether scheduled rotation is due at now.
func (m *Manager) due(now time.Time) bool {
	if m.o.RotateEvery <= 0 {
		return false
	}
	n := m.snap.Load().newest(now)
	return n == nil || !now.Before(n.rec.ActiveAt.Add(m.o.RotateEvery))
}

// lease takes the rotation lease and returns its release.
func (m *Manager) lease(ctx context.Context) (func(), error) {
	now := m.now()
	if err := m.o.Store.AcquireLease(ctx, leaseName, m.holder, now, now.Add(leaseTTL)); err != nil {
		return nil, fmt.Errorf("keys: rotation lease: %w", err)
	}
	return func() {
		// Released even if ctx was cancelled; otherwise the others wait
		// out leaseTTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := m.o.Store.ReleaseLease(rctx, leaseName, m.holder); err != nil {
			m.o.Log.Warn("keys: release rotation lease", "err", err)
		}
	}, nil
}

// Run reloads the keys every PollEvery, so that this instance follows
// rotations made by others or by `mcpgate keys rotate`, and rotates when
// due. It returns when ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.o.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.tick(ctx)
		}
	}
}

// tick is one round of Run.
func (m *Manager) tick(ctx context.Context) {
	if err := m.Reload(ctx); err != nil {
		m.o.Log.Error("keys: reload", "err", err)
	}
	if !m.Ready() {
		if err := m.createFirst(ctx); err != nil {
			m.o.Log.Error("keys: no key can sign; creating one failed", "err", err)
		}
		return
	}
	if !m.due(m.now()) {
		return
	}
	if _, err := m.rotate(ctx, true); err != nil && !errors.Is(err, storage.ErrLeaseHeld) {
		m.o.Log.Error("keys: scheduled rotation", "err", err)
	}
}
