package usertoken

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
)

const (
	// DefaultMargin: an access token expiring within this is refreshed
	// before it is sent, so it does not expire on its way upstream or
	// during a long call.
	DefaultMargin = 60 * time.Second
	// leaseTTL bounds how long a crashed instance's lease blocks the
	// user's refreshes elsewhere; it must exceed refreshTimeout, or a slow
	// refresh could lose its lease to a second one mid-flight.
	leaseTTL = 30 * time.Second
	// refreshTimeout bounds one refresh (including the wait for the lease).
	refreshTimeout = 20 * time.Second
	// storeTimeout bounds the write of a refresh's result, which runs
	// even when the refresh used up its own deadline.
	storeTimeout = 5 * time.Second
	// pollMin and pollMax pace a caller waiting for another instance's
	// lease: the store cannot notify, so it re-tries with backoff.
	pollMin = 10 * time.Millisecond
	pollMax = 250 * time.Millisecond
)

// Store is what the Manager persists: the sealed data and the leases.
type Store interface {
	storage.UpstreamTokenStore
	storage.LeaseStore
}

// Options configure a Manager.
type Options struct {
	Store Store
	Seal  *seal.Keyring
	// Connectors are the configured login connectors; only token
	// connectors have upstream tokens, but every connector's data is kept.
	Connectors []login.Connector
	// Margin: see DefaultMargin (0 means it).
	Margin time.Duration
	Log    *slog.Logger
	Now    func() time.Time
}

// Manager keeps connector data and runs refreshes. It is safe for
// concurrent use; one Manager per process (two would each hold the lease
// under a holder ID of their own and serialise only through the store).
type Manager struct {
	store  Store
	seal   *seal.Keyring
	conns  map[string]login.Connector
	margin time.Duration
	log    *slog.Logger
	now    func() time.Time
	// holder names this Manager in leases.
	holder  string
	flights singleflight.Group
	locks   keyedMutex
	// onLeaseWait, when set (tests), is called each time a caller finds
	// the lease held by another instance.
	onLeaseWait func()
	// onFlight, when set (tests), is called by each caller about to wait
	// for a refresh flight.
	onFlight func()
}

// New builds a Manager.
func New(o Options) (*Manager, error) {
	if o.Store == nil || o.Seal == nil {
		return nil, errors.New("usertoken: store and seal keyring are required")
	}
	m := &Manager{store: o.Store, seal: o.Seal, conns: map[string]login.Connector{}, margin: o.Margin,
		log: o.Log, now: o.Now}
	for _, c := range o.Connectors {
		m.conns[c.ID()] = c
	}
	if m.margin <= 0 {
		m.margin = DefaultMargin
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	b := make([]byte, 12)
	rand.Read(b)
	m.holder = "usertoken-" + hex.EncodeToString(b)
	return m, nil
}

// errNoToken: there is no usable upstream token for the user; they must
// log in (again) at the provider.
func errNoToken(why string) error { return fmt.Errorf("usertoken: %s: %w", why, login.ErrNoToken) }

// aad binds a sealed value to its record and, for token connectors, to
// the configuration that issued it: a sealed blob copied onto another
// user's record, or a config hash rewritten in the store, does not open.
// Data without a hash keeps the original binding (subject, provider), so
// data stored before config hashes existed still opens.
func aad(subject, provider string, hash []byte) []byte {
	a := []byte(subject + "\x00" + provider)
	if len(hash) > 0 {
		a = append(append(a, 0), hash...)
	}
	return a
}

func (m *Manager) tokenConnector(provider string) (login.TokenConnector, bool) {
	tc, ok := m.conns[provider].(login.TokenConnector)
	return tc, ok
}

// configHash is the hash data for provider must carry: the token
// connector's, none for other connectors.
func (m *Manager) configHash(provider string) []byte {
	if tc, ok := m.tokenConnector(provider); ok {
		return tc.ConfigHash()
	}
	return nil
}

// Keep stores data, the connector data of a login or re-check, sealed, for
// the user; empty data is not stored. A newer login replaces the data.
func (m *Manager) Keep(ctx context.Context, subject, provider string, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	rec, err := m.record(subject, provider, data)
	if err != nil {
		return err
	}
	return m.store.PutUpstreamToken(ctx, rec)
}

// record seals data into a fresh record for the configured connector.
func (m *Manager) record(subject, provider string, data []byte) (storage.UpstreamToken, error) {
	rec := storage.UpstreamToken{Subject: subject, ProviderID: provider, ConfigHash: m.configHash(provider), UpdatedAt: m.now()}
	if tc, ok := m.tokenConnector(provider); ok {
		if _, exp, err := tc.AccessToken(data); err == nil {
			rec.ExpiresAt = exp
		}
	}
	sealed, err := m.seal.Seal(seal.PurposeUpstreamToken, data, aad(subject, provider, rec.ConfigHash))
	if err != nil {
		return rec, fmt.Errorf("usertoken: seal: %w", err)
	}
	rec.Sealed = sealed
	return rec, nil
}

// Load returns the user's stored connector data, or an error wrapping
// login.ErrNoToken when there is none the configured connector may use.
func (m *Manager) Load(ctx context.Context, subject, provider string) ([]byte, error) {
	_, data, err := m.load(ctx, subject, provider)
	return data, err
}

func (m *Manager) load(ctx context.Context, subject, provider string) (storage.UpstreamToken, []byte, error) {
	rec, err := m.store.GetUpstreamToken(ctx, subject, provider)
	if errors.Is(err, storage.ErrNotFound) {
		return rec, nil, errNoToken("none stored")
	}
	if err != nil {
		return rec, nil, fmt.Errorf("usertoken: load: %w", err)
	}
	if !bytes.Equal(rec.ConfigHash, m.configHash(provider)) {
		// Issued to another configuration of the provider (another
		// issuer, API or client): never sent there or upstream.
		return rec, nil, errNoToken("stored under another provider configuration")
	}
	data, err := m.seal.Open(seal.PurposeUpstreamToken, rec.Sealed, aad(subject, provider, rec.ConfigHash))
	if err != nil {
		m.log.WarnContext(ctx, "upstream token does not open", "provider", provider, "err", err)
		return rec, nil, errNoToken("does not open")
	}
	return rec, data, nil
}

// UserToken returns the user's access token at provider, refreshed first
// when it expires within the margin. Errors wrap login.ErrNoToken (the
// user must log in again), login.ErrUserGone (the provider refused the
// refresh: the grant at the provider is over) or anything else (the
// provider could not be reached, typically login.ErrProviderUnavailable).
func (m *Manager) UserToken(ctx context.Context, subject, provider string) (string, error) {
	tc, ok := m.tokenConnector(provider)
	if !ok {
		return "", errNoToken(fmt.Sprintf("provider %q has no upstream tokens", provider))
	}
	_, data, err := m.load(ctx, subject, provider)
	if err != nil {
		return "", err
	}
	tok, exp, err := tc.AccessToken(data)
	if err != nil {
		return "", errNoToken("data holds no access token")
	}
	if m.fresh(exp) {
		return tok, nil
	}
	return m.refresh(ctx, tc, subject, provider, "expiring", func(_ string, exp time.Time) bool { return !m.fresh(exp) })
}

// RefreshUserToken refreshes the user's token after the upstream refused
// rejected (a 401): unless another caller has already replaced it, it
// refreshes even a token that has not expired (the provider may have
// revoked it early).
func (m *Manager) RefreshUserToken(ctx context.Context, subject, provider, rejected string) (string, error) {
	tc, ok := m.tokenConnector(provider)
	if !ok {
		return "", errNoToken(fmt.Sprintf("provider %q has no upstream tokens", provider))
	}
	h := sha256.Sum256([]byte(rejected))
	return m.refresh(ctx, tc, subject, provider, "rejected:"+hex.EncodeToString(h[:]), func(tok string, exp time.Time) bool {
		return tok == rejected || !m.fresh(exp)
	})
}

// fresh reports whether a token expiring at exp may still be sent; a zero
// exp (the provider gave none) is fresh until an upstream refuses it.
func (m *Manager) fresh(exp time.Time) bool {
	return exp.IsZero() || exp.After(m.now().Add(m.margin))
}

// refresh runs one refresh for every caller in this process wanting the
// same (kind): the first caller's flight is shared. The flight is detached
// from the caller's cancellation: a rotated refresh token is spent once
// the provider answers, and dropping that answer because one client hung
// up would lose the user's only valid refresh token. Each caller still
// stops waiting when its own context ends.
func (m *Manager) refresh(ctx context.Context, tc login.TokenConnector, subject, provider, kind string,
	stale func(tok string, exp time.Time) bool) (string, error) {
	key := kind + "\x00" + subject + "\x00" + provider
	ch := m.flights.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		var tok string
		err := m.locked(fctx, subject, provider, func() error {
			// Re-read under the lock: the winner of a race (here or on
			// another instance) has stored its result, which is fresh.
			rec, data, err := m.load(fctx, subject, provider)
			if err != nil {
				return err
			}
			t, exp, aerr := tc.AccessToken(data)
			if aerr == nil && !stale(t, exp) {
				tok = t
				return nil
			}
			id, err := m.refreshLocked(fctx, tc, subject, provider, rec, data, login.Identity{})
			if err != nil {
				return err
			}
			t, exp, err = tc.AccessToken(id.ConnectorData)
			if err != nil {
				return errNoToken("refresh gave no access token")
			}
			if stale(t, exp) {
				// Nothing to renew it with (no upstream refresh token):
				// sending it again would loop on the upstream's 401. The
				// user must log in again (PX-12).
				return errNoToken("expired and not renewable")
			}
			tok = t
			return nil
		})
		return tok, err
	})
	if m.onFlight != nil {
		m.onFlight()
	}
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// refreshLocked calls the connector's Refresh with the stored data and
// stores what it returns; the caller holds the lock. Data returned with an
// error is stored too: a provider may rotate the refresh token and still
// fail the call (GitHub), and dropping the new one would strand the user.
// A refused refresh (login.ErrUserGone) leaves the stored data as it was,
// so a repeat is refused the same way.
func (m *Manager) refreshLocked(ctx context.Context, c login.RefreshConnector, subject, provider string,
	rec storage.UpstreamToken, data []byte, seen login.Identity) (login.Identity, error) {
	seen.Subject = strings.TrimPrefix(subject, provider+":")
	seen.ConnectorData = data
	id, err := c.Refresh(ctx, seen)
	if len(id.ConnectorData) > 0 && !bytes.Equal(id.ConnectorData, data) {
		// The write outlives the flight's deadline: the provider has
		// answered, and a rotated refresh token not stored is lost.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		var serr error
		if len(rec.Sealed) == 0 {
			// Nothing was stored: the connector's first data for the user.
			serr = m.Keep(sctx, subject, provider, id.ConnectorData)
		} else {
			serr = m.replace(sctx, subject, provider, rec, id.ConnectorData)
		}
		if serr != nil {
			return id, errors.Join(err, serr)
		}
	}
	return id, err
}

// errSuperseded: the record changed since it was read (a new login).
var errSuperseded = errors.New("usertoken: superseded")

// replace stores data in place of rec. A record replaced meanwhile (a new
// login stored its own data) is kept: it is newer. A record deleted
// meanwhile (the kill switch) stays deleted.
func (m *Manager) replace(ctx context.Context, subject, provider string, rec storage.UpstreamToken, data []byte) error {
	next, err := m.record(subject, provider, data)
	if err != nil {
		return err
	}
	err = m.store.UpdateUpstreamToken(ctx, subject, provider, func(cur storage.UpstreamToken) (storage.UpstreamToken, error) {
		if !bytes.Equal(cur.Sealed, rec.Sealed) {
			return cur, errSuperseded
		}
		return next, nil
	})
	switch {
	case errors.Is(err, errSuperseded):
		m.log.InfoContext(ctx, "refreshed upstream token superseded by a newer login", "provider", provider)
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return errNoToken("deleted during the refresh")
	case err != nil:
		return fmt.Errorf("usertoken: store refreshed token: %w", err)
	}
	return nil
}

// Recheck re-checks the user with the provider (SPEC AS-6): the
// connector's Refresh with the stored data, whose result is stored. For a
// token connector it runs under the same lock as token refreshes, so a
// re-check and a refresh never redeem one refresh token twice. seen is
// what the caller last knew (groups, email); its Subject and
// ConnectorData are filled in here. Errors are the connector's
// (login.ErrUserGone is a verdict; others are not).
func (m *Manager) Recheck(ctx context.Context, subject, provider string, seen login.Identity) (login.Identity, error) {
	rc, ok := m.conns[provider].(login.RefreshConnector)
	if !ok {
		return seen, fmt.Errorf("usertoken: provider %q cannot re-check users", provider)
	}
	if _, isToken := rc.(login.TokenConnector); !isToken {
		rec, data, err := m.load(ctx, subject, provider)
		if err != nil && !errors.Is(err, login.ErrNoToken) {
			m.log.WarnContext(ctx, "load connector data", "provider", provider, "err", err)
		}
		return m.refreshLocked(ctx, rc, subject, provider, rec, data, seen)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	var id login.Identity
	err := m.locked(fctx, subject, provider, func() error {
		rec, data, err := m.load(fctx, subject, provider)
		if err != nil && !errors.Is(err, login.ErrNoToken) {
			return err
		}
		var rerr error
		id, rerr = m.refreshLocked(fctx, rc, subject, provider, rec, data, seen)
		return rerr
	})
	return id, err
}

// Revoke revokes the user's upstream tokens at every token connector's
// provider (the kill switch), under the refresh lock so that a refresh in
// flight cannot mint tokens after the revocation. It returns how many
// providers revoked, and the failures joined; a provider without
// revocation (errors.ErrUnsupported) is neither. The caller deletes the
// stored data afterwards (storage.DeleteUpstreamTokens), whatever this
// returns: the gateway must never use the data again.
func (m *Manager) Revoke(ctx context.Context, subject string) (int, error) {
	ids := make([]string, 0, len(m.conns))
	for id := range m.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	revoked := 0
	var errs []error
	for _, provider := range ids {
		tc, ok := m.tokenConnector(provider)
		if !ok {
			continue
		}
		// Bounded like a refresh, so the work ends while the lease is
		// still held: past the lease, another instance could redeem the
		// refresh token and mint tokens that are never revoked.
		pctx, cancel := context.WithTimeout(ctx, refreshTimeout)
		err := m.locked(pctx, subject, provider, func() error {
			_, data, err := m.load(pctx, subject, provider)
			if errors.Is(err, login.ErrNoToken) {
				return nil
			}
			if err != nil {
				return err
			}
			err = tc.RevokeTokens(pctx, data)
			if errors.Is(err, errors.ErrUnsupported) {
				return nil
			}
			if err == nil {
				revoked++
			}
			return err
		})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("provider %q: %w", provider, err))
		}
	}
	return revoked, errors.Join(errs...)
}

// LeaseName is the store lease serialising (subject, provider)'s
// refreshes across instances. The name is a hash: it bounds the length
// whatever the subject, and the lease table does not list who is
// refreshing.
func LeaseName(subject, provider string) string {
	h := sha256.Sum256([]byte(subject + "\x00" + provider))
	return "usertoken:" + base64.RawURLEncoding.EncodeToString(h[:])
}

// locked runs fn holding the in-process lock and the store lease of
// (subject, provider). A lease held by another instance is waited for,
// polling with backoff until ctx ends; a holder that crashed blocks for at
// most leaseTTL.
func (m *Manager) locked(ctx context.Context, subject, provider string, fn func() error) error {
	key := subject + "\x00" + provider
	unlock, err := m.locks.lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	name := LeaseName(subject, provider)
	wait := pollMin
	for {
		now := m.now()
		err := m.store.AcquireLease(ctx, name, m.holder, now, now.Add(leaseTTL))
		if err == nil {
			break
		}
		if !errors.Is(err, storage.ErrLeaseHeld) {
			return fmt.Errorf("usertoken: acquire lease: %w", err)
		}
		if m.onLeaseWait != nil {
			m.onLeaseWait()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, pollMax)
	}
	defer func() {
		if err := m.store.ReleaseLease(context.WithoutCancel(ctx), name, m.holder); err != nil {
			m.log.WarnContext(ctx, "release upstream token lease", "err", err)
		}
	}()
	return fn()
}
