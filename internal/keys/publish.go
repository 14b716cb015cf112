package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrNoSigningKey: no loaded key signs now. New and Run make sure one
// does, so this means the store lost the keys or none opens.
var ErrNoSigningKey = errors.New("keys: no signing key is active")

// missReloadEvery limits the reloads PublicKey makes for unknown kids. A
// token signed by a key another instance has just created must verify
// here, so an unknown kid triggers a reload; a client sending random kids
// must not turn each request into a store query.
const missReloadEvery = time.Second

// missReloadTimeout bounds that reload, which runs on a request's path.
const missReloadTimeout = 2 * time.Second

// Sign returns payload as a compact JWS (RFC 7515 §7.1) signed by the
// current key, with alg, kid and (unless empty) typ in the protected
// header. It unseals nothing: the key was opened when loaded.
func (m *Manager) Sign(payload []byte, typ string) (string, error) {
	e := m.snap.Load().signingAt(m.now())
	if e == nil {
		return "", ErrNoSigningKey
	}
	s, err := e.key.signer(typ)
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// PublicKey returns the public key named kid if it is published now. A key
// created less than clockSkew ago by an instance whose clock runs ahead of
// this one's also counts: the key is ours either way, and refusing it
// would fail that instance's first tokens here. An unknown kid reloads the
// keys from the store, at most once per missReloadEvery.
func (m *Manager) PublicKey(kid string) (jose.JSONWebKey, bool) {
	now := m.now()
	if e, ok := m.snap.Load().byID[kid]; ok {
		return e.verifiable(now)
	}
	if !m.takeMissReload(now) {
		return jose.JSONWebKey{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), missReloadTimeout)
	defer cancel()
	if err := m.Reload(ctx); err != nil {
		m.o.Log.Warn("keys: reload for an unknown kid", "err", err)
	}
	if e, ok := m.snap.Load().byID[kid]; ok {
		return e.verifiable(now)
	}
	return jose.JSONWebKey{}, false
}

func (e *entry) verifiable(now time.Time) (jose.JSONWebKey, bool) {
	if e.key == nil || now.Add(clockSkew).Before(e.rec.CreatedAt) || expiredAt(e.rec, now) {
		return jose.JSONWebKey{}, false
	}
	return e.key.pub, true
}

// takeMissReload claims the next unknown-kid reload if one is allowed at
// now. Of concurrent callers only one wins the compare-and-swap. A clock
// stepped back allows a reload rather than locking them out.
func (m *Manager) takeMissReload(now time.Time) bool {
	last, n := m.lastMiss.Load(), now.UnixNano()
	if last != 0 && n >= last && n-last < int64(missReloadEvery) {
		return false
	}
	return m.lastMiss.CompareAndSwap(last, n)
}

// jwksCache is a JWKS document and the span of time over which it holds
// for one snapshot: keys enter and leave it at their CreatedAt and
// ExpiresAt, not only when the snapshot changes.
type jwksCache struct {
	snap         *snapshot
	built, until time.Time // until is zero when no key enters or leaves later
	body         []byte
}

// JWKS returns the JWK Set (RFC 7517 §5) of every published key: public
// parts only, alg, kid and use "sig" on each. The document is built once
// and rebuilt only when the keys or the published set change.
func (m *Manager) JWKS() []byte {
	now, s := m.now(), m.snap.Load()
	c := m.jwks.Load()
	if c == nil || c.snap != s || now.Before(c.built) || (!c.until.IsZero() && !now.Before(c.until)) {
		c = buildJWKS(s, now)
		m.jwks.Store(c)
	}
	return slices.Clone(c.body)
}

func buildJWKS(s *snapshot, now time.Time) *jwksCache {
	c := &jwksCache{snap: s, built: now}
	var keys [][]byte
	for _, e := range s.keys {
		if e.key == nil {
			continue
		}
		if publishedAt(e.rec, now) {
			keys = append(keys, e.key.pubJSON)
		}
		for _, t := range []time.Time{e.rec.CreatedAt, e.rec.ExpiresAt} {
			if t.After(now) && (c.until.IsZero() || t.Before(c.until)) {
				c.until = t
			}
		}
	}
	c.body = slices.Concat([]byte(`{"keys":[`), bytes.Join(keys, []byte(",")), []byte("]}"))
	return c
}
