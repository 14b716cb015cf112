package keys

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
	"github.com/mcpgate/mcpgate/internal/storage/sqlstore"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// t0 is where every test clock starts.
var t0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func newKeyring(t testing.TB, id string) *seal.Keyring {
	t.Helper()
	secret := make([]byte, seal.KeySize)
	rand.Read(secret)
	kr, err := seal.New([]seal.Key{{ID: id, Secret: secret}}, id)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// backend opens a store; instance opens another handle on the same data,
// as a second mcpgate process (or a restarted one) would.
type backend struct {
	name string
	open func(t *testing.T) (s Store, instance func() Store)
}

var backends = []backend{
	{"memory", func(*testing.T) (Store, func() Store) {
		s := memory.New()
		return s, func() Store { return s }
	}},
	{"sqlite", func(t *testing.T) (Store, func() Store) {
		path := filepath.Join(t.TempDir(), "k.db")
		open := func() Store {
			s, err := sqlstore.Open(t.Context(), "sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		return open(), open
	}},
}

// eachBackend runs f against every backend.
func eachBackend(t *testing.T, f func(t *testing.T, s Store, instance func() Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, instance := b.open(t)
			f(t, s, instance)
		})
	}
}

// env is what a test's managers share: the clock, the seal keyring and the
// audit events they emit.
type env struct {
	clock *clock.Clock
	seal  *seal.Keyring
	mu    sync.Mutex
	audit []audit.Event
}

func newEnv(t testing.TB) *env { return &env{clock: clock.New(t0), seal: newKeyring(t, "s1")} }

func (e *env) options(s Store) Options {
	return Options{
		Store: s, Seal: e.seal, Now: e.clock.Now,
		PollEvery: 5 * time.Second, TokenTTL: 10 * time.Minute,
		Audit: func(_ context.Context, ev audit.Event) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.audit = append(e.audit, ev)
		},
	}
}

func (e *env) events() []audit.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]audit.Event(nil), e.audit...)
}

func (e *env) manager(t testing.TB, s Store, edit ...func(*Options)) *Manager {
	t.Helper()
	o := e.options(s)
	for _, f := range edit {
		f(&o)
	}
	m, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var allAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

// verify checks token the way a resource server does: the key comes from
// PublicKey by the token's kid. It returns the kid and the payload.
func verify(m *Manager, token string) (kid string, payload []byte, ok bool) {
	jws, err := jose.ParseSignedCompact(token, allAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return "", nil, false
	}
	kid = jws.Signatures[0].Protected.KeyID
	key, found := m.PublicKey(kid)
	if !found {
		return kid, nil, false
	}
	payload, err = jws.Verify(key)
	return kid, payload, err == nil
}

// signingKID signs a token and returns the kid in its header.
func signingKID(t *testing.T, m *Manager) string {
	t.Helper()
	tok, err := m.Sign([]byte(`{}`), "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, allAlgorithms)
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Protected.KeyID
}

// jwksKIDs lists the kids m's JWKS publishes.
func jwksKIDs(t *testing.T, m *Manager) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func storedKeys(t *testing.T, s Store) []storage.SigningKey {
	t.Helper()
	ks, err := s.ListSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func storedKey(t *testing.T, s Store, kid string) storage.SigningKey {
	t.Helper()
	for _, k := range storedKeys(t, s) {
		if k.ID == kid {
			return k
		}
	}
	t.Fatalf("key %q not stored", kid)
	return storage.SigningKey{}
}

// countingStore counts the listings that reach the store.
type countingStore struct {
	Store
	lists atomic.Int64
}

func (c *countingStore) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	c.lists.Add(1)
	return c.Store.ListSigningKeys(ctx)
}
