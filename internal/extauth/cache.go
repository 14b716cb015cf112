package extauth

import (
	"sync"
	"time"
)

// introCache holds positive introspection answers by token hash, so steady
// traffic does not call the AS per request (SPEC PX-3). It is bounded: when
// full it first drops expired entries (at most once a second), then evicts
// arbitrary ones; a flood of distinct valid tokens costs introspection
// calls, never memory.
type introCache struct {
	mu      sync.Mutex
	max     int
	entries map[[32]byte]cacheEntry
	swept   time.Time
}

type cacheEntry struct {
	claims Claims
	until  time.Time
}

func newIntroCache(size int) *introCache {
	return &introCache{max: size, entries: make(map[[32]byte]cacheEntry)}
}

func (c *introCache) get(key [32]byte, now time.Time) (Claims, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return Claims{}, false
	}
	if !now.Before(e.until) {
		delete(c.entries, key)
		return Claims{}, false
	}
	return e.claims.clone(), true
}

func (c *introCache) put(key [32]byte, claims Claims, until, now time.Time) {
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		c.makeRoom(now)
	}
	c.entries[key] = cacheEntry{claims.clone(), until}
}

// makeRoom frees at least one slot. Map iteration order is unspecified
// (and randomised), which makes the eviction of live entries random: an
// attacker cannot aim it at a particular user's entry.
func (c *introCache) makeRoom(now time.Time) {
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

func (c *introCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
