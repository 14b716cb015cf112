package keys

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Store is the part of storage.Store the manager uses: the keys, and the
// lease that lets one instance at a time create or rotate them.
type Store interface {
	storage.SigningKeyStore
	storage.LeaseStore
}

// Defaults for the zero values of Options.
const (
	DefaultPollEvery = 5 * time.Second
	DefaultTokenTTL  = 10 * time.Minute // SPEC AS-5: access tokens live 10 minutes by default
)

// clockSkew pads a retired key's publication (ExpiresAt = RetiredAt +
// TokenTTL + clockSkew) for verifiers whose clocks run behind the signer's
// and who accept an exp that much in the past.
const clockSkew = time.Minute

// Options configure a Manager. Zero durations take the defaults named.
type Options struct {
	Store Store
	Seal  *seal.Keyring
	// Algorithm of new keys: ES256 (default), EdDSA or RS256. Keys already
	// stored keep their own algorithm until rotated away.
	Algorithm string
	// RotateEvery is how long a key signs before Run rotates it; 0 means
	// never (rotate with `mcpgate keys rotate`).
	RotateEvery time.Duration
	// PublishAhead is how long a new key is published before it signs, so
	// that every instance and every verifier caching the JWKS has it by
	// then. Default 2*PollEvery.
	PublishAhead time.Duration
	// TokenTTL must be at least the longest access-token lifetime: a retired
	// key stays published RetiredAt+TokenTTL+1m. Default 10 minutes.
	TokenTTL time.Duration
	// PollEvery is how often Run reloads the keys. Default 5s.
	PollEvery time.Duration
	Now       func() time.Time // default time.Now
	Log       *slog.Logger     // default discards
	// Audit receives key_rotated events; nil records nothing.
	Audit func(ctx context.Context, e audit.Event)
}

func (o Options) withDefaults() (Options, error) {
	if o.Store == nil || o.Seal == nil {
		return o, errors.New("keys: Store and Seal are required")
	}
	if o.RotateEvery < 0 || o.PublishAhead < 0 || o.TokenTTL < 0 || o.PollEvery < 0 {
		return o, errors.New("keys: durations must not be negative")
	}
	if o.Algorithm == "" {
		o.Algorithm = ES256
	}
	if o.Algorithm != ES256 && o.Algorithm != EdDSA && o.Algorithm != RS256 {
		return o, fmt.Errorf("keys: unsupported algorithm %q (want %s, %s or %s)", o.Algorithm, ES256, EdDSA, RS256)
	}
	if o.PollEvery == 0 {
		o.PollEvery = DefaultPollEvery
	}
	if o.PublishAhead == 0 {
		o.PublishAhead = 2 * o.PollEvery
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Manager holds the signing keys of one instance. Sign, PublicKey and JWKS
// read an immutable snapshot through an atomic pointer, so they take no
// lock; Reload swaps in a new snapshot.
type Manager struct {
	o      Options
	holder string // this manager's name for the rotation lease

	snap atomic.Pointer[snapshot]
	jwks atomic.Pointer[jwksCache]

	reloadMu sync.Mutex   // one Reload at a time, so an older listing never replaces a newer one
	lastMiss atomic.Int64 // when PublicKey last reloaded for an unknown kid (Unix ns)
}

// New loads the keys from the store. If none can sign now, it creates one
// that signs immediately. It fails if a live key's private part does not
// open with o.Seal: signing on with a fresh key would leave every instance
// that still can open the old one disagreeing with this one, and the
// operator must learn that a seal key went missing.
func New(ctx context.Context, o Options) (*Manager, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	holder := make([]byte, 16)
	rand.Read(holder) // never fails (crypto/rand, Go 1.24+)
	m := &Manager{o: o, holder: hex.EncodeToString(holder)}
	m.snap.Store(&snapshot{byID: map[string]*entry{}})
	if err := m.Reload(ctx); err != nil {
		return nil, err
	}
	if !m.Ready() {
		if err := m.createFirst(ctx); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Ready reports whether a key can sign now.
func (m *Manager) Ready() bool { return m.snap.Load().signingAt(m.o.Now()) != nil }

// Reload lists the keys from the store and installs them. Keys already
// loaded are reused without unsealing them again. A live key whose private
// part does not open (see open) is left out and reported in the error; the
// others are installed regardless.
func (m *Manager) Reload(ctx context.Context) error {
	problems, err := m.reload(ctx)
	if err != nil {
		return err
	}
	return problems
}

// reload is Reload with the two failures apart: err means nothing was
// installed (the store failed); problems names keys left out.
func (m *Manager) reload(ctx context.Context) (problems, err error) {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	recs, err := m.o.Store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list signing keys: %w", err)
	}
	s, problems := buildSnapshot(m.o.Seal, recs, m.snap.Load(), m.o.Now())
	m.snap.Store(s)
	return problems, nil
}

// now is the manager's clock.
func (m *Manager) now() time.Time { return m.o.Now() }
