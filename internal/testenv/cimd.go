package testenv

import (
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

// CIMDServer serves client ID metadata documents over TLS from a loopback
// port, for end-to-end tests of SPEC AS-7. The gateway may fetch from it
// only through the test-only registration.cimd_test_trust option that
// Trust sets; every other SSRF rule still applies.
//
// It counts accepted TCP connections as well as requests: a fetch the SSRF
// defences should have stopped before dialling shows up in Conns even when
// the TLS handshake would have failed.
type CIMDServer struct {
	T testing.TB
	// TLS is the underlying server; its certificate (httptest's built-in
	// one, valid for 127.0.0.1) is the CA the gateway is told to trust.
	TLS *httptest.Server
	// URL is https://127.0.0.1:<port>.
	URL string
	// Host is 127.0.0.1:<port>, the one authority the gateway admits.
	Host string
	// CAFile is the PEM file of the server's certificate.
	CAFile string

	conns atomic.Int64
	mu    sync.Mutex
	docs  map[string]cimdDoc
	hits  map[string]int
	redir map[string]string
}

type cimdDoc struct {
	body         []byte
	cacheControl string
}

// NewCIMDServer starts a document server; it is closed when the test ends.
func NewCIMDServer(t testing.TB) *CIMDServer {
	t.Helper()
	s := &CIMDServer{T: t, docs: map[string]cimdDoc{}, hits: map[string]int{}, redir: map[string]string{}}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	s.TLS, s.URL = ts, ts.URL
	s.Host = strings.TrimPrefix(ts.URL, "https://")
	s.CAFile = filepath.Join(t.TempDir(), "cimd-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(s.CAFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// Trust returns a Mutate function that enables CIMD and trusts this server
// (and only its exact host:port) for fetches.
func (s *CIMDServer) Trust() func(*config.Config) {
	return func(cfg *config.Config) {
		on := true
		cfg.Registration.CIMD = &on
		cfg.Registration.CIMDTestTrust = &config.CIMDTestTrust{CAFile: s.CAFile, Host: s.Host}
	}
}

// ClientID is the client identifier URL of path on this server.
func (s *CIMDServer) ClientID(path string) string { return s.URL + path }

// Document is a valid metadata document for the client at path: a public
// client with one loopback redirect URI.
func (s *CIMDServer) Document(path, name, redirectURI string) map[string]any {
	return map[string]any{
		"client_id":                  s.ClientID(path),
		"client_name":                name,
		"redirect_uris":              []string{redirectURI},
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
	}
}

// Serve publishes doc (JSON-encoded, application/json) at path, with an
// optional Cache-Control header value.
func (s *CIMDServer) Serve(path string, doc any, cacheControl string) {
	s.T.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		s.T.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[path] = cimdDoc{body: body, cacheControl: cacheControl}
}

// Redirect answers requests for path with a 302 to target (an SSRF
// attempt: the first URL passes every check, the target would not).
func (s *CIMDServer) Redirect(path, target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redir[path] = target
}

// Hits is how many requests reached path.
func (s *CIMDServer) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// Conns is how many TCP connections the server accepted, from anyone.
func (s *CIMDServer) Conns() int64 { return s.conns.Load() }

func (s *CIMDServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	d, ok := s.docs[r.URL.Path]
	target, redirect := s.redir[r.URL.Path]
	s.mu.Unlock()
	if redirect {
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if d.cacheControl != "" {
		w.Header().Set("Cache-Control", d.cacheControl)
	}
	w.Write(d.body)
}
