package clientmeta

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/ascii"
)

// Fetcher defaults and cache bounds.
const (
	DefaultMaxBytes   = 5 << 10         // draft §6.6 recommends reading at most 5 KB
	DefaultTimeout    = 5 * time.Second // whole fetch: DNS, connect, TLS, headers, body
	DefaultMaxEntries = 1024
	DefaultTTL        = time.Hour       // when the response has no max-age
	MinTTL            = 5 * time.Minute // floor: a max-age of 0 must not make us a fetch loop
	MaxTTL            = 24 * time.Hour  // ceiling: a changed or revoked document is seen within a day
	FailureTTL        = time.Minute     // back-off after a failed fetch
)

// ErrFetch marks a failure to obtain a document: DNS, a refused address,
// TLS, HTTP status, content type, size or time. Its text is for logs only;
// show the client a generic message, because details such as "refused: not
// a public address" would turn the fetcher into a probe of our network.
// A document that was fetched but breaks the rules yields an *Error
// instead, whose Description is safe to show.
var ErrFetch = errors.New("client ID metadata document could not be fetched")

// Resolver looks up a host's addresses; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Fetcher fetches client ID metadata documents with SSRF defences (SPEC
// AS-7), validates them with ValidateCIMD and caches them. Set the fields
// before the first Fetch and do not change them afterwards; a Fetcher is
// safe for concurrent use and must not be copied.
type Fetcher struct {
	// Policy validates fetched documents (ValidateCIMD) before they are
	// cached; nil means DefaultPolicy(). Set it to the configured policy:
	// a document using a private-use scheme the policy refuses is a
	// failure, remembered for FailureTTL.
	Policy *Policy
	// AllowedDomains, when not empty, lists the only hosts whose documents
	// are fetched. A host matches only exactly (case-insensitively):
	// listing example.com does not admit app.example.com, so nobody who
	// controls a subdomain can speak for the parent.
	AllowedDomains []string
	// TrustHost and TrustCA are for end-to-end tests only (SPEC AS-7;
	// config refuses them unless public_url is loopback). A client_id
	// whose authority (host:port) is exactly TrustHost may resolve to a
	// loopback address, and its certificate is verified against TrustCA
	// instead of the system roots. Every other rule still applies.
	TrustHost string
	TrustCA   *x509.CertPool
	// MaxBytes caps the document size (default DefaultMaxBytes).
	MaxBytes int64
	// Timeout bounds a whole fetch (default DefaultTimeout).
	Timeout time.Duration
	// MaxEntries bounds the cache (default DefaultMaxEntries).
	MaxEntries int
	// Now is the clock for cache expiry (default time.Now).
	Now func() time.Time
	// Resolver resolves host names (default net.DefaultResolver).
	Resolver Resolver
	// Dial opens the TCP connection to one checked address (ip:port);
	// default a net.Dialer. Tests set it to see which addresses a fetch
	// dials; every address is checked again just before Dial is called.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)

	mu       sync.Mutex
	cache    map[string]*call // finished fetches, kept until call.until
	inflight map[string]*call // running fetches, so concurrent callers share one
}

// call is one fetch of one URL, shared by every caller that asks while it
// runs, then kept as the cache entry (successes and failures alike).
type call struct {
	done    chan struct{} // closed when the fields below are set
	meta    Metadata
	expires time.Time // the document's expiry, returned to callers
	until   time.Time // how long this result is served from the cache
	err     error
}

// Fetch returns the validated document at clientID and when it expires.
// Documents are cached per Cache-Control max-age, clamped to [MinTTL,
// MaxTTL], DefaultTTL when absent; "no-store" is honoured (expiry = now,
// nothing kept). A failure is remembered for FailureTTL so that one bad
// client_id cannot make us fetch in a loop; the draft (§4.3) forbids
// caching error responses as documents, and none is kept: only the fact
// that the fetch failed, for a minute. Concurrent calls for one URL share
// one fetch, which runs on its own time limit: a caller that gives up
// (ctx) does not fail the others.
func (f *Fetcher) Fetch(ctx context.Context, clientID string) (Metadata, time.Time, error) {
	if err := f.checkTarget(clientID); err != nil {
		return Metadata{}, time.Time{}, err // pure checks: nothing to cache
	}
	c := f.start(ctx, clientID)
	select {
	case <-c.done:
		if c.err != nil {
			return Metadata{}, time.Time{}, c.err
		}
		return c.meta.clone(), c.expires, nil
	case <-ctx.Done():
		return Metadata{}, time.Time{}, ctx.Err()
	}
}

// checkTarget applies the checks that need no network: the URL's shape and
// the domain allow-list. No DNS query is made for a host that is not
// allowed.
func (f *Fetcher) checkTarget(clientID string) error {
	if err := CheckClientIDURL(clientID); err != nil {
		return err
	}
	if len(f.AllowedDomains) == 0 {
		return nil
	}
	host := hostOf(clientID)
	if !slices.ContainsFunc(f.AllowedDomains, func(d string) bool { return ascii.EqualFold(d, host) }) {
		return invalid("client_id host is not allowed on this server")
	}
	return nil
}

// start returns the cached or running call for clientID, or starts one.
func (f *Fetcher) start(ctx context.Context, clientID string) *call {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.cache[clientID]; ok {
		if now.Before(c.until) {
			return c
		}
		delete(f.cache, clientID)
	}
	if c, ok := f.inflight[clientID]; ok {
		return c
	}
	if f.inflight == nil {
		f.inflight = map[string]*call{}
	}
	c := &call{done: make(chan struct{})}
	f.inflight[clientID] = c
	go f.run(context.WithoutCancel(ctx), clientID, c)
	return c
}

func (f *Fetcher) run(ctx context.Context, clientID string, c *call) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	c.meta, c.expires, c.err = f.fetch(ctx, clientID)
	now := f.now()
	c.until = c.expires
	if c.err != nil {
		c.until = now.Add(FailureTTL)
	}
	f.mu.Lock()
	delete(f.inflight, clientID)
	if c.until.After(now) {
		f.store(clientID, c)
	}
	f.mu.Unlock()
	close(c.done)
}

// store adds c to the cache, making room by dropping the entry that
// expires soonest (an expired one, if any). The scan is linear, but only
// runs when the cache is full. Called with f.mu held.
func (f *Fetcher) store(clientID string, c *call) {
	if f.cache == nil {
		f.cache = map[string]*call{}
	}
	for len(f.cache) >= f.maxEntries() {
		var oldest string
		for k, e := range f.cache {
			if oldest == "" || e.until.Before(f.cache[oldest].until) {
				oldest = k
			}
		}
		delete(f.cache, oldest)
	}
	f.cache[clientID] = c
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fetcher) timeout() time.Duration { return orDefault(f.Timeout, DefaultTimeout) }
func (f *Fetcher) maxBytes() int64        { return orDefault(f.MaxBytes, DefaultMaxBytes) }
func (f *Fetcher) maxEntries() int        { return orDefault(f.MaxEntries, DefaultMaxEntries) }
func orDefault[T int | int64 | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

func (f *Fetcher) policy() Policy {
	if f.Policy != nil {
		return *f.Policy
	}
	return DefaultPolicy()
}

func (f *Fetcher) resolver() Resolver {
	if f.Resolver != nil {
		return f.Resolver
	}
	return net.DefaultResolver
}

// clone copies m so a caller that modifies its result cannot change what
// the cache serves to the next one.
func (m Metadata) clone() Metadata {
	m.RedirectURIs = slices.Clone(m.RedirectURIs)
	m.GrantTypes = slices.Clone(m.GrantTypes)
	m.ResponseTypes = slices.Clone(m.ResponseTypes)
	m.Contacts = slices.Clone(m.Contacts)
	m.JWKS = slices.Clone(m.JWKS)
	return m
}
