package ratelimit

import (
	"context"
	"sync"
	"time"
)

// DefaultMaxKeys is the number of keys a Memory holds when MaxKeys is
// unset. A key costs about 100 bytes plus its name, so 10 MB at most.
const DefaultMaxKeys = 100_000

// evictScan is how many of the least recently used keys a full Memory
// looks through for an idle one before it drops the least recently used
// key outright; trimPerCall is how many idle keys each call may drop from
// the tail. Both bound the work under the lock to a constant.
const (
	evictScan   = 16
	trimPerCall = 2
)

// Memory is the in-memory Limiter: GCRA state (one timestamp) per key, in
// this process only. Several instances each count on their own; limits
// that must hold across instances need the Redis backend.
//
// Memory is bounded. Keys sit on a least-recently-used list. Each call
// drops up to trimPerCall idle keys (bucket full again, so forgetting one
// changes no answer) from the cold end, so the map shrinks back to the
// active keys as traffic goes on. When MaxKeys keys are held and a new one
// arrives, the idle keys among the evictScan coldest go; if none is idle,
// the least recently used key goes. Every step is O(1): a flood of
// distinct keys (an IPv6 attacker has 2^16 /64s in a /48) costs the same
// per request as normal traffic, so the limiter cannot itself be made the
// bottleneck.
//
// The price of the bound: a flood of more than MaxKeys distinct keys can
// evict a key that is being limited, which then starts again with a full
// bucket. A limited client that keeps sending is recently used, so it is
// evicted last. That is accepted: unbounded memory would let the same
// attacker take the process down, whereas a reset bucket errs towards
// letting a request through, never towards refusing a legitimate client
// for ever. Limits that must hold against such an attacker belong in Redis,
// with its own memory budget.
type Memory struct {
	// MaxKeys bounds the number of keys held. Default DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; default time.Now.
	Now func() time.Time

	mu   sync.Mutex
	keys map[string]*entry
	// lru is the sentinel of a circular list: lru.next is the most
	// recently used entry, lru.prev the least.
	lru entry
}

var _ Limiter = (*Memory)(nil)

type entry struct {
	key        string
	tat        int64 // GCRA theoretical arrival time, Unix nanoseconds
	prev, next *entry
}

// Allow implements Limiter. It never fails.
func (m *Memory) Allow(_ context.Context, l Limit, key string) (Result, error) {
	now := m.now()
	k := l.Name + ":" + key
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	m.trim(now)
	e := m.keys[k]
	tat := now
	if e != nil {
		tat = e.tat
	}
	res, next := decide(l, now, tat)
	if e == nil {
		if !res.Allowed {
			return res, nil // unreachable for Burst >= 1, but nothing to keep
		}
		e = m.insert(k, now)
	}
	e.tat = next
	m.toFront(e)
	return res, nil
}

// Len is the number of keys held (for tests and metrics).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// now is in nanoseconds but whole microseconds, the resolution Redis
// counts in, so both backends give the same answers.
func (m *Memory) now() int64 {
	t := time.Now()
	if m.Now != nil {
		t = m.Now()
	}
	return t.UnixMicro() * 1000
}

func (m *Memory) maxKeys() int {
	if m.MaxKeys <= 0 {
		return DefaultMaxKeys
	}
	return m.MaxKeys
}

func (m *Memory) init() {
	if m.keys == nil {
		m.keys = make(map[string]*entry)
		m.lru.next, m.lru.prev = &m.lru, &m.lru
	}
}

// trim drops idle keys from the cold end of the list.
func (m *Memory) trim(now int64) {
	for range trimPerCall {
		e := m.lru.prev
		if e == &m.lru || e.tat > now {
			return
		}
		m.remove(e)
	}
}

// insert adds key, making room first when the map is full.
func (m *Memory) insert(key string, now int64) *entry {
	if len(m.keys) >= m.maxKeys() {
		e := m.lru.prev
		for i := 0; i < evictScan && e != &m.lru; i++ {
			prev := e.prev
			if e.tat <= now {
				m.remove(e)
			}
			e = prev
		}
		if len(m.keys) >= m.maxKeys() {
			m.remove(m.lru.prev)
		}
	}
	e := &entry{key: key}
	m.keys[key] = e
	e.prev, e.next = &m.lru, m.lru.next
	e.next.prev = e
	m.lru.next = e
	return e
}

func (m *Memory) remove(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	delete(m.keys, e.key)
}

func (m *Memory) toFront(e *entry) {
	if m.lru.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = &m.lru, m.lru.next
	e.next.prev = e
	m.lru.next = e
}
