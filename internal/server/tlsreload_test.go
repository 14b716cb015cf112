package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// writeCertPair writes a fresh self-signed certificate for 127.0.0.1 with
// the given serial number, and its key, over certFile and keyFile. Each
// file's modification time is set to mod, so a rewrite is a change
// whatever the file system's timestamp resolution.
func writeCertPair(t *testing.T, certFile, keyFile string, serial int64, mod time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFileAt(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), mod)
	writeFileAt(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), mod)
}

func writeFileAt(t *testing.T, name string, data []byte, mod time.Time) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(name, mod, mod); err != nil {
		t.Fatal(err)
	}
}

// servedSerial completes one TLS handshake with addr and returns the
// serial number of the certificate the server presented.
func servedSerial(t *testing.T, addr string) int64 {
	t.Helper()
	// The test trusts whatever it wrote itself; what it checks is which
	// of its certificates is served.
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestTLSCertificateReloaded: a renewed certificate is served on a
// handshake after the next check, without a restart; a broken
// replacement (a key that does not match) is logged and the last good
// certificate kept; the fixed pair is picked up at the next check even
// when stat cannot tell it from the broken one. Every
// answer over TLS carries HSTS, even with a loopback http public_url.
func TestTLSCertificateReloaded(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	mod := time.Now().Add(-time.Hour)
	writeCertPair(t, certFile, keyFile, 1, mod)
	cfg := testConfig()
	cfg.TLS = config.TLS{CertFile: certFile, KeyFile: keyFile}
	clock := &fakeClock{t: time.Now()}
	logs := &syncBuffer{}
	s, err := New(t.Context(), cfg, Options{Version: "test", LogOutput: logs, AuditStdout: discard{}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, s, "https")
	defer stop()
	addr := strings.TrimPrefix(url, "https://")

	if got := servedSerial(t, addr); got != 1 {
		t.Fatalf("serial %d served at start, want 1", got)
	}
	writeCertPair(t, certFile, keyFile, 2, mod.Add(time.Minute))
	if got := servedSerial(t, addr); got != 1 {
		t.Errorf("serial %d served before the check interval passed, want still 1", got)
	}
	clock.Advance(certCheckInterval)
	if got := servedSerial(t, addr); got != 2 {
		t.Fatalf("serial %d served after the files changed, want 2 (reloaded)", got)
	}

	// A renewal caught half-way: the new certificate with the old key.
	writeCertPair(t, certFile, filepath.Join(dir, "other.key"), 3, mod.Add(2*time.Minute))
	clock.Advance(certCheckInterval)
	if got := servedSerial(t, addr); got != 2 {
		t.Errorf("serial %d served after a mismatched pair was written, want the last good one, 2", got)
	}
	if !strings.Contains(logs.String(), "still serving the previous certificate") {
		t.Errorf("the refused pair was not logged:\n%s", logs)
	}
	clock.Advance(certCheckInterval)
	if got := servedSerial(t, addr); got != 2 {
		t.Errorf("serial %d served, want 2", got)
	}
	// The key arrives: the pair is whole again and is served. It arrives
	// with the size and modification time the old key had (a P-256 key's
	// PEM has one size; a file system with coarse timestamps), so nothing
	// tells it from the old file by stat: the reloader must keep trying
	// while the last load failed.
	key3, err := os.ReadFile(filepath.Join(dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	if before := stampOf(keyFile); int64(len(key3)) != before.size {
		t.Fatalf("the new key is %d bytes, the old %d; the test needs them equal", len(key3), before.size)
	}
	writeFileAt(t, keyFile, key3, mod.Add(time.Minute))
	clock.Advance(certCheckInterval)
	if got := servedSerial(t, addr); got != 3 {
		t.Errorf("serial %d served once the key matched, want 3", got)
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("HSTS over TLS = %q, want max-age=31536000 (public_url %s)", got, cfg.PublicURL)
	}
}

// A pair that does not load stops New: there is no previous certificate
// to fall back to.
func TestTLSBadPairStopsStartup(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCertPair(t, certFile, keyFile, 1, time.Now())
	writeCertPair(t, filepath.Join(dir, "other.pem"), keyFile, 2, time.Now()) // key no longer matches
	cfg := testConfig()
	cfg.TLS = config.TLS{CertFile: certFile, KeyFile: keyFile}
	_, err := New(t.Context(), cfg, Options{LogOutput: discard{}, AuditStdout: discard{}})
	if err == nil || !strings.Contains(err.Error(), "private key does not match public key") {
		t.Fatalf("New = %v, want the mismatch refused", err)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
