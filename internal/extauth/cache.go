package extauth

import (
	"sync"
	"time"
)

// introCache holds introspection outcomes by token hash, so steady traffic
// does not call the AS per request (SPEC PX-3): positive answers (Claims)
// in one, refusals in another, so that a flood of garbage tokens can evict
// only other refusals, never a user's positive entry. It is bounded: when
// full it first drops expired entries (at most once a second), then evicts
// arbitrary ones; a flood of distinct tokens costs introspection calls,
// never memory.
type introCache[V cacheable[V]] struct {
	mu      sync.Mutex
	max     int
	entries map[[32]byte]cacheEntry[V]
	swept   time.Time
}

// cacheable values are copied in and out, so a cached value is never
// aliased by a caller.
type cacheable[V any] interface{ clone() V }

type cacheEntry[V any] struct {
	v     V
	until time.Time
}

// refusal is a cached ErrInvalidToken outcome of introspection.
type refusal struct{ err error }

func (r refusal) clone() refusal { return r }

func newIntroCache[V cacheable[V]](size int) *introCache[V] {
	return &introCache[V]{max: size, entries: make(map[[32]byte]cacheEntry[V])}
}

func (c *introCache[V]) get(key [32]byte, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	if !now.Before(e.until) {
		delete(c.entries, key)
		var zero V
		return zero, false
	}
	return e.v.clone(), true
}

func (c *introCache[V]) put(key [32]byte, v V, until, now time.Time) {
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		c.makeRoom(now)
	}
	c.entries[key] = cacheEntry[V]{v.clone(), until}
}

// makeRoom frees at least one slot. Map iteration order is unspecified
// (and randomised), which makes the eviction of live entries random: an
// attacker cannot aim it at a particular user's entry.
func (c *introCache[V]) makeRoom(now time.Time) {
	if now.Sub(c.swept) >= time.Second {
		c.swept = now
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max {
			return
		}
		delete(c.entries, k)
	}
}

func (c *introCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
