package clientmeta

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// fakeResolver answers from a map and counts lookups. next, when set,
// replaces the answers after the first lookup (a DNS-rebinding server).
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]netip.Addr
	next    map[string][]netip.Addr
	lookups int
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups++
	a, ok := r.answers[host]
	if r.next != nil {
		r.answers = r.next
	}
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return a, nil
}

func (r *fakeResolver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// env is a document server behind TLS on 127.0.0.1, reachable as
// https://app.example.com:<port> through the fake resolver and TrustHost
// (the end-to-end option of SPEC AS-7), with a fake clock.
type env struct {
	srv   *httptest.Server
	hits  atomic.Int64
	res   *fakeResolver
	clock *clock.Clock
	f     *Fetcher
	port  string
}

const trustedName = "app.example.com" // the test certificate covers *.example.com

func newEnv(t *testing.T, h http.HandlerFunc) *env {
	t.Helper()
	e := &env{clock: clock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(e.srv.Close)
	u, _ := url.Parse(e.srv.URL)
	e.port = u.Port()
	pool := x509.NewCertPool()
	pool.AddCert(e.srv.Certificate())
	e.res = &fakeResolver{answers: map[string][]netip.Addr{trustedName: addrs("127.0.0.1")}}
	e.f = &Fetcher{
		TrustHost: trustedName + ":" + e.port,
		TrustCA:   pool,
		Now:       e.clock.Now,
		Resolver:  e.res,
	}
	return e
}

func (e *env) url(host, path string) string { return "https://" + host + ":" + e.port + path }

// serveDoc writes a valid document for the URL it was fetched at, after
// mutate (if any) has changed it.
func serveDoc(mutate func(*Metadata)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m := Metadata{
			ClientID:     "https://" + r.Host + r.URL.Path,
			ClientName:   "Test Client",
			RedirectURIs: []string{"http://127.0.0.1/cb"},
		}
		if mutate != nil {
			mutate(&m)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	}
}
