package tokens

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// Revocation cache defaults. PollEvery is well inside SPEC AS-5a's "every
// instance within 5 s"; Overlap re-reads entries whose CreatedAt came from
// a writer whose clock lags ours or whose transaction committed late.
const (
	DefaultPollEvery = time.Second
	DefaultOverlap   = 10 * time.Second
)

// CacheOptions configure a RevocationCache.
type CacheOptions struct {
	PollEvery time.Duration // 0: DefaultPollEvery
	Overlap   time.Duration // 0: DefaultOverlap
	Now       func() time.Time
	Log       *slog.Logger // nil: discard
}

// RevocationCache holds the revocation log in memory so the verifier can
// check every access token against it without I/O (SPEC AS-5a). It holds
// revoked families (sid) and jtis until their entry's ExpiresAt, when no
// token they affect can still be valid, and a per-user epoch.
//
// User epochs (the kill switch) have second granularity because iat does:
// a token is revoked when iat <= NotBefore truncated to the second. A token
// minted in the same second as the kill switch but before it is therefore
// rejected, as it must be; one minted legitimately in that second after
// it is rejected too. That is accepted: its client re-authenticates, and
// the alternative (iat < epoch) would let a token minted just before the
// kill switch survive it. Epochs compare times from different instances'
// clocks, so the AS instances' clocks must agree to well under a second.
type RevocationCache struct {
	store storage.RevocationStore
	o     CacheOptions

	refreshMu sync.Mutex // serialises Refresh

	mu        sync.RWMutex
	families  map[string]time.Time // sid -> ExpiresAt (zero: never)
	jtis      map[string]time.Time // jti -> ExpiresAt
	users     map[string]epoch     // subject -> epoch
	nextPrune time.Time            // earliest non-zero ExpiresAt held
	lastPoll  time.Time            // start of the last successful Refresh
	ready     atomic.Bool
}

type epoch struct {
	notBefore int64 // Unix seconds; tokens with iat <= notBefore are revoked
	expires   time.Time
}

// NewRevocationCache returns an empty cache fed from store. It is not Ready
// until its first Refresh succeeds.
func NewRevocationCache(store storage.RevocationStore, o CacheOptions) *RevocationCache {
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	if o.Overlap <= 0 {
		o.Overlap = DefaultOverlap
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &RevocationCache{
		store: store, o: o,
		families: map[string]time.Time{}, jtis: map[string]time.Time{}, users: map[string]epoch{},
	}
}

// IsRevoked reports whether c's family (sid) or jti is revoked, or c was
// issued, or its user authenticated, at or before its subject's epoch (see
// RevocationCache). The auth_time rule catches a grant that began before
// the kill switch but was redeemed after it: an authorization code issued
// a moment before, exchanged a moment after, would otherwise mint tokens
// with a fresh iat.
func (rc *RevocationCache) IsRevoked(c Claims) bool {
	rc.mu.RLock()
	_, fam := rc.families[c.SID]
	_, jti := rc.jtis[c.JTI]
	e, user := rc.users[c.Subject]
	rc.mu.RUnlock()
	return fam || jti || (user && (c.IssuedAt <= e.notBefore || (c.AuthTime != 0 && c.AuthTime <= e.notBefore)))
}

// AuthRevoked reports whether a login of subject at authTime is at or
// before the subject's epoch: a code, family or browser session from that
// login must not yield tokens any more (the kill switch, SPEC AS-5a).
func (rc *RevocationCache) AuthRevoked(subject string, authTime time.Time) bool {
	rc.mu.RLock()
	e, ok := rc.users[subject]
	rc.mu.RUnlock()
	return ok && authTime.Unix() <= e.notBefore
}

// FamilyRevoked reports whether the log revokes family id (a sid).
func (rc *RevocationCache) FamilyRevoked(id string) bool {
	rc.mu.RLock()
	_, ok := rc.families[id]
	rc.mu.RUnlock()
	return ok
}

// Ready reports whether the first Refresh has succeeded. Until then the
// cache cannot know what is revoked, and Verify fails closed.
func (rc *RevocationCache) Ready() bool { return rc.ready.Load() }

// LastRefresh is when the last successful Refresh started (zero: never),
// for health checks and metrics.
func (rc *RevocationCache) LastRefresh() time.Time {
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	return rc.lastPoll
}

// Len is the number of entries held (families, jtis and user epochs).
func (rc *RevocationCache) Len() int {
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	return len(rc.families) + len(rc.jtis) + len(rc.users)
}

// Add applies r at once. The instance that revokes calls it so that it
// rejects the revoked tokens immediately, not at its next poll.
func (rc *RevocationCache) Add(r storage.Revocation) {
	t := now(rc.o.Now)
	rc.mu.Lock()
	rc.apply(r, t)
	rc.mu.Unlock()
}

// Refresh applies the log entries created since the last successful
// Refresh, less the overlap margin; the first call loads the whole log.
// Applying an entry twice changes nothing, so the overlap is harmless.
func (rc *RevocationCache) Refresh(ctx context.Context) error {
	rc.refreshMu.Lock()
	defer rc.refreshMu.Unlock()
	start := now(rc.o.Now)
	rc.mu.RLock()
	since := rc.lastPoll
	rc.mu.RUnlock()
	if !since.IsZero() {
		since = since.Add(-rc.o.Overlap)
	}
	list, err := rc.store.ListRevocations(ctx, since)
	if err != nil {
		return fmt.Errorf("tokens: load revocations: %w", err)
	}
	rc.mu.Lock()
	for _, r := range list {
		rc.apply(r, start)
	}
	rc.prune(start)
	rc.lastPoll = start
	rc.mu.Unlock()
	rc.ready.Store(true)
	return nil
}

// Run refreshes every PollEvery until ctx is done, starting at once.
// Failures are logged; the cache keeps what it has and retries.
func (rc *RevocationCache) Run(ctx context.Context) {
	t := time.NewTicker(rc.o.PollEvery)
	defer t.Stop()
	for {
		if err := rc.Refresh(ctx); err != nil && ctx.Err() == nil {
			rc.o.Log.Warn("revocation cache refresh failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// apply merges r as storage.Revocation.Supersede would: expiries and
// epochs only move later. Entries already expired at t are skipped.
// Callers hold mu.
func (rc *RevocationCache) apply(r storage.Revocation, t time.Time) {
	if !r.ExpiresAt.IsZero() && r.ExpiresAt.Before(t) {
		return
	}
	switch r.Kind {
	case storage.RevokeFamily:
		rc.families[r.Key] = laterExpiry(rc.families, r.Key, r.ExpiresAt)
	case storage.RevokeToken:
		rc.jtis[r.Key] = laterExpiry(rc.jtis, r.Key, r.ExpiresAt)
	case storage.RevokeUser:
		if r.NotBefore.IsZero() {
			return
		}
		e, ok := rc.users[r.Key]
		if !ok || r.NotBefore.Unix() > e.notBefore {
			e.notBefore = r.NotBefore.Unix()
		}
		if !ok || (!e.expires.IsZero() && (r.ExpiresAt.IsZero() || r.ExpiresAt.After(e.expires))) {
			e.expires = r.ExpiresAt
		}
		rc.users[r.Key] = e
	default:
		rc.o.Log.Warn("revocation cache: unknown revocation kind", "kind", string(r.Kind))
		return
	}
	if !r.ExpiresAt.IsZero() && (rc.nextPrune.IsZero() || r.ExpiresAt.Before(rc.nextPrune)) {
		rc.nextPrune = r.ExpiresAt
	}
}

// laterExpiry is the later of m[key] (if present) and exp; zero is never.
func laterExpiry(m map[string]time.Time, key string, exp time.Time) time.Time {
	old, ok := m[key]
	if !ok || (!old.IsZero() && (exp.IsZero() || exp.After(old))) {
		return exp
	}
	return old
}

// prune drops entries past their ExpiresAt, only when the earliest one is
// due, so a poll usually costs no scan. Callers hold mu.
func (rc *RevocationCache) prune(t time.Time) {
	if rc.nextPrune.IsZero() || t.Before(rc.nextPrune) {
		return
	}
	var next time.Time
	pruneMap(rc.families, func(e time.Time) time.Time { return e }, t, &next)
	pruneMap(rc.jtis, func(e time.Time) time.Time { return e }, t, &next)
	pruneMap(rc.users, func(e epoch) time.Time { return e.expires }, t, &next)
	rc.nextPrune = next
}

func pruneMap[V any](m map[string]V, expiry func(V) time.Time, t time.Time, next *time.Time) {
	for k, v := range m {
		e := expiry(v)
		switch {
		case e.IsZero():
		case e.Before(t):
			delete(m, k)
		case next.IsZero() || e.Before(*next):
			*next = e
		}
	}
}
