package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys is the number of buckets a Keyed holds when MaxKeys is
// unset: a bucket costs a few hundred bytes, so a few megabytes at most.
const DefaultMaxKeys = 10000

// Keyed is an in-memory token bucket per key (a client IP, a client ID).
// Callers keying by client address should pass clientip.Key, so an IPv6
// client counts once per /64 rather than once per address it can choose.
//
// Memory is bounded: when MaxKeys buckets are held and a new key arrives,
// every idle bucket (full again, so forgetting it changes nothing) is
// dropped, and if none is idle the least recently used one is. That scan
// is O(MaxKeys) under the lock, but it runs only when the map is full; a
// sweep that finds idle buckets empties many slots at once, and only a
// sustained flood of distinct, still-limited keys pays it on every new
// key (tens of microseconds at the default size).
//
// The price of the bound: a flood of new keys can evict a key that is
// being limited, which then starts again with a full bucket. Eviction
// takes the least recently used key, so a limited client that keeps
// sending is evicted last, but an attacker with
// more than MaxKeys addresses (or /64s) can reset its own buckets. That is
// accepted: unbounded memory would let the same attacker take the whole
// process down, whereas a reset bucket errs towards letting a request
// through, never towards refusing a legitimate client forever. Limits
// that must hold against such an attacker belong in a shared store with
// its own memory budget (the Redis backend, SPEC RL-1).
type Keyed struct {
	// Rate is the sustained rate per key, Burst the bucket size.
	Rate  rate.Limit
	Burst int
	// MaxKeys bounds the number of buckets. Default DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; default time.Now.
	Now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	seq     uint64 // use counter: recency without relying on clock resolution
}

type bucket struct {
	lim  *rate.Limiter
	seen uint64
}

// Allow takes one token from key's bucket. When it is empty, ok is false
// and retryAfter says when the next token arrives.
func (k *Keyed) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := time.Now()
	if k.Now != nil {
		now = k.Now()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bucket(key, now)
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// maxKeys is the bound in force, the one place MaxKeys' default lives.
func (k *Keyed) maxKeys() int {
	if k.MaxKeys <= 0 {
		return DefaultMaxKeys
	}
	return k.MaxKeys
}

func (k *Keyed) bucket(key string, now time.Time) *bucket {
	if k.buckets == nil {
		k.buckets = make(map[string]*bucket)
	}
	k.seq++
	if b, ok := k.buckets[key]; ok {
		b.seen = k.seq
		return b
	}
	if len(k.buckets) >= k.maxKeys() {
		k.evict(now)
	}
	b := &bucket{lim: rate.NewLimiter(k.Rate, k.Burst), seen: k.seq}
	k.buckets[key] = b
	return b
}

// evict makes room for one bucket: it drops every bucket that has refilled
// and, only if that freed nothing, the least recently seen one.
func (k *Keyed) evict(now time.Time) {
	var oldestKey string
	var oldest uint64
	for key, b := range k.buckets {
		if b.lim.TokensAt(now) >= float64(k.Burst) {
			delete(k.buckets, key)
			continue
		}
		if oldestKey == "" || b.seen < oldest {
			oldestKey, oldest = key, b.seen
		}
	}
	if len(k.buckets) >= k.maxKeys() && oldestKey != "" {
		delete(k.buckets, oldestKey)
	}
}

// Len is the number of buckets held (for tests and metrics).
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
