package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// Store is the in-memory storage.Store. One mutex serialises every method,
// which makes each one atomic and every updater trivially compare-and-swap.
// Records are deep-copied on the way in and out, so no caller shares a slice
// with the store or with another caller.
type Store struct {
	mu sync.Mutex

	clients         map[string]storage.Client
	authRequests    map[string]storage.AuthRequest
	authCodes       map[string]storage.AuthCode // by string(Hash)
	families        map[string]storage.RefreshFamily
	tokens          map[string]storage.RefreshToken
	consents        map[consentKey]storage.Consent
	browserSessions map[string]storage.BrowserSession
	upstreamTokens  map[upstreamKey]storage.UpstreamToken
	signingKeys     map[string]storage.SigningKey
	revocations     map[revocationKey]storage.Revocation
	mcpSessions     map[string]storage.MCPSession
	leases          map[string]storage.Lease

	audit []storage.AuditRecord // ascending Seq
	// auditHead is the last record appended. Once pruned, only its Seq and
	// Hash remain, and the chain continues from them.
	auditHead storage.AuditRecord

	closed bool
}

var _ storage.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		clients:         map[string]storage.Client{},
		authRequests:    map[string]storage.AuthRequest{},
		authCodes:       map[string]storage.AuthCode{},
		families:        map[string]storage.RefreshFamily{},
		tokens:          map[string]storage.RefreshToken{},
		consents:        map[consentKey]storage.Consent{},
		browserSessions: map[string]storage.BrowserSession{},
		upstreamTokens:  map[upstreamKey]storage.UpstreamToken{},
		signingKeys:     map[string]storage.SigningKey{},
		revocations:     map[revocationKey]storage.Revocation{},
		mcpSessions:     map[string]storage.MCPSession{},
		leases:          map[string]storage.Lease{},
	}
}

var errClosed = errors.New("memory: store is closed")

// Ping fails once the store is closed, so readiness reflects shutdown.
func (s *Store) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	return nil
}

// Close marks the store closed; the data stays readable until it is dropped.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func notFound(kind string, key any) error {
	return fmt.Errorf("%w: %s %q", storage.ErrNotFound, kind, key)
}

func alreadyExists(kind string, key any) error {
	return fmt.Errorf("%w: %s %q", storage.ErrAlreadyExists, kind, key)
}

// create stores v under key unless the key is taken. v must already be a copy.
func create[K comparable, T any](m map[K]T, kind string, key K, v T) error {
	if _, ok := m[key]; ok {
		return alreadyExists(kind, key)
	}
	m[key] = v
	return nil
}

// get returns a copy of the record under key.
func get[K comparable, T any](m map[K]T, kind string, key K, clone func(T) T) (T, error) {
	v, ok := m[key]
	if !ok {
		var zero T
		return zero, notFound(kind, key)
	}
	return clone(v), nil
}

// update runs fn on a copy of the record under key and stores a copy of
// the result with its key put back: an updater edits a record, it cannot
// move it (or overwrite another). The caller holds s.mu, so no other writer
// can intervene between the read and the write.
func update[K comparable, T any](m map[K]T, kind string, key K, clone func(T) T,
	setKey func(*T, K), fn func(T) (T, error)) error {
	old, ok := m[key]
	if !ok {
		return notFound(kind, key)
	}
	v, err := fn(clone(old))
	if err != nil {
		return err
	}
	v = clone(v)
	setKey(&v, key)
	m[key] = v
	return nil
}

// remove deletes the record under key.
func remove[K comparable, T any](m map[K]T, kind string, key K) error {
	if _, ok := m[key]; !ok {
		return notFound(kind, key)
	}
	delete(m, key)
	return nil
}

// utc normalises t to UTC, keeping the zero time zero ("never").
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// expired reports whether a record with this expiry is gone at now; a zero
// expiry never passes, and a record expiring exactly at now is still live.
func expired(expiresAt, now time.Time) bool {
	return !expiresAt.IsZero() && expiresAt.Before(now)
}
