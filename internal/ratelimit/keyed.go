package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed is an in-memory token bucket per key (a client IP, a client ID).
// Memory is bounded: past MaxKeys, idle buckets (full again) are dropped,
// and if none is idle the oldest is, so a flood of new keys cannot grow
// the map without bound; a dropped key starts with a full bucket again,
// which errs towards letting a request through, never towards refusing a
// legitimate one forever.
type Keyed struct {
	// Rate is the sustained rate per key, Burst the bucket size.
	Rate  rate.Limit
	Burst int
	// MaxKeys bounds the number of buckets. Default 10000.
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

func (k *Keyed) bucket(key string, now time.Time) *bucket {
	if k.buckets == nil {
		k.buckets = make(map[string]*bucket)
	}
	k.seq++
	if b, ok := k.buckets[key]; ok {
		b.seen = k.seq
		return b
	}
	max := k.MaxKeys
	if max <= 0 {
		max = 10000
	}
	if len(k.buckets) >= max {
		k.evict(now)
	}
	b := &bucket{lim: rate.NewLimiter(k.Rate, k.Burst), seen: k.seq}
	k.buckets[key] = b
	return b
}

// evict drops every bucket that has refilled (forgetting it changes
// nothing), or else the least recently seen one.
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
	if len(k.buckets) >= max(k.MaxKeys, 1) && oldestKey != "" {
		delete(k.buckets, oldestKey)
	}
}

// Len is the number of buckets held (for tests and metrics).
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
