package login

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// Limiter is what the login handler asks before and tells after checking a
// password. Throttle is the in-memory implementation; a shared one (Redis)
// lets several instances count together.
type Limiter interface {
	// Allow reports whether an attempt for username from ip may proceed,
	// and if not, how long until it may.
	Allow(username, ip string) (ok bool, retryAfter time.Duration)
	// Failure records a wrong password; lockedNow reports that it locked
	// the username or the IP.
	Failure(username, ip string) (lockedNow bool)
	// Success records a right password.
	Success(username, ip string)
}

var _ Limiter = (*Throttle)(nil)

// ThrottleOptions configures a Throttle. Zero values take the defaults.
type ThrottleOptions struct {
	// MaxFailures within Window lock the username (or the IP). Default 5.
	MaxFailures int
	// Window is how long failures are counted together. Default 15m.
	Window time.Duration
	// Lockout is how long a lock lasts. Default 15m.
	Lockout time.Duration
	// MaxEntries bounds each of the username and IP tables. Default 100000.
	MaxEntries int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Throttle counts failed logins per username and per IP (SPEC ID-4).
//
// Threats: online password guessing against one account (the username
// counter) and password spraying, a few guesses at many accounts from one
// source (the IP counter). Unknown usernames are counted like known ones,
// so lockout behaviour does not reveal which exist. Locking a username
// lets anyone lock its owner out for Lockout; that is the usual price, and
// the lock is temporary. The IP is whatever the caller resolved (see the
// server's trusted-proxy handling); callers may pass an IPv6 /64 prefix.
//
// Memory is bounded: each table holds at most MaxEntries, expired entries
// are swept once per Window, and when a table is full an arbitrary
// unlocked entry makes room. Locked entries are never evicted, so
// spraying new keys cannot unlock a victim; if a table is full of locks, a
// new key goes uncounted there (the other table still counts it).
type Throttle struct {
	o     ThrottleOptions
	mu    sync.Mutex
	users table
	ips   table
}

type table struct {
	m         map[string]*counter
	lastSweep time.Time
}

type counter struct {
	failures    int
	start       time.Time // of the current window
	lockedUntil time.Time
}

// NewThrottle returns a Throttle with o's settings.
func NewThrottle(o ThrottleOptions) *Throttle {
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.Window <= 0 {
		o.Window = 15 * time.Minute
	}
	if o.Lockout <= 0 {
		o.Lockout = 15 * time.Minute
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 100_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	now := o.Now()
	return &Throttle{o: o,
		users: table{m: map[string]*counter{}, lastSweep: now},
		ips:   table{m: map[string]*counter{}, lastSweep: now}}
}

// Allow implements Limiter: no if either the username or the IP is locked.
func (t *Throttle) Allow(username, ip string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.o.Now()
	wait := max(t.users.lockedFor(key(username), now), t.ips.lockedFor(key(ip), now))
	return wait == 0, wait
}

// Failure implements Limiter.
func (t *Throttle) Failure(username, ip string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.o.Now()
	u := t.fail(&t.users, key(username), now)
	i := t.fail(&t.ips, key(ip), now)
	return u || i
}

// Success implements Limiter: the username's failures are forgotten, the
// IP's are not (a sprayer who guesses one password right keeps its count).
// A lock stays: it may have been set by attempts racing this one.
func (t *Throttle) Success(username, _ string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := key(username)
	if c, ok := t.users.m[k]; ok && !c.lockedUntil.After(t.o.Now()) {
		delete(t.users.m, k)
	}
}

// fail counts one failure for k and reports whether it locked k.
func (t *Throttle) fail(tb *table, k string, now time.Time) bool {
	if k == "" {
		return false
	}
	if now.Sub(tb.lastSweep) >= t.o.Window {
		tb.sweep(now, t.o.Window)
	}
	c := tb.get(k, now, t.o.MaxEntries)
	if c == nil || c.lockedUntil.After(now) {
		return false
	}
	if now.Sub(c.start) >= t.o.Window {
		c.failures, c.start = 0, now
	}
	c.failures++
	if c.failures < t.o.MaxFailures {
		return false
	}
	c.failures, c.start, c.lockedUntil = 0, now, now.Add(t.o.Lockout)
	return true
}

func (tb *table) lockedFor(k string, now time.Time) time.Duration {
	if c, ok := tb.m[k]; ok && c.lockedUntil.After(now) {
		return c.lockedUntil.Sub(now)
	}
	return 0
}

// get returns k's counter, making room for a new one if needed; nil when
// the table is full of locked entries.
func (tb *table) get(k string, now time.Time, maxEntries int) *counter {
	if c, ok := tb.m[k]; ok {
		return c
	}
	if len(tb.m) >= maxEntries && !tb.evictOne(now) {
		return nil
	}
	c := &counter{start: now}
	tb.m[k] = c
	return c
}

// evictOne drops an arbitrary unlocked entry (map order is unpredictable,
// so an attacker cannot aim at a particular one).
func (tb *table) evictOne(now time.Time) bool {
	for k, c := range tb.m {
		if !c.lockedUntil.After(now) {
			delete(tb.m, k)
			return true
		}
	}
	return false
}

// sweep drops entries whose lock is over and whose window has passed.
func (tb *table) sweep(now time.Time, window time.Duration) {
	for k, c := range tb.m {
		if !c.lockedUntil.After(now) && now.Sub(c.start) >= window {
			delete(tb.m, k)
		}
	}
	tb.lastSweep = now
}

// key bounds the memory one entry can take: a username or IP longer than
// 64 bytes is replaced by its SHA-256 in hex plus '#', 65 bytes, which no
// kept key can equal.
func key(s string) string {
	if len(s) <= 64 {
		return s
	}
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:]) + "#"
}
