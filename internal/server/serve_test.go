package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
)

// serveUntilCancelled runs Serve on a loopback listener and returns the
// base URL and a stop function that cancels and waits for Serve's result.
func serveUntilCancelled(t *testing.T, cfg *config.Config, scheme string) (string, func() error) {
	t.Helper()
	s, err := New(context.Background(), cfg, Options{Version: "test", LogOutput: io.Discard, AuditStdout: io.Discard})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return startServe(t, s, scheme)
}

// startServe runs s.Serve on a loopback listener; see serveUntilCancelled.
func startServe(t *testing.T, s *Server, scheme string) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return within 5 s of cancellation")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	return scheme + "://" + ln.Addr().String(), stop
}

// Serve records server_started and server_stopped in the audit file and
// returns nil after a graceful shutdown.
func TestServeLifecycleAudited(t *testing.T) {
	cfg := testConfig()
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	cfg.Audit.File = auditFile
	url, stop := serveUntilCancelled(t, cfg, "http")

	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("Serve returned %v after a clean shutdown", err)
	}

	data, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var ev struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line is not JSON: %q", line)
		}
		types = append(types, ev.Type)
	}
	// The first signing key is created (and audited) while the server is
	// built, before it starts.
	if strings.Join(types, ",") != "key_rotated,server_started,server_stopped" {
		t.Errorf("audit events = %v", types)
	}
}

// With tls configured the listener speaks HTTPS (and only HTTPS).
func TestServeTLS(t *testing.T) {
	cfg := testConfig()
	certFile, keyFile, pool := writeTestCert(t)
	cfg.TLS = config.TLS{CertFile: certFile, KeyFile: keyFile}
	url, stop := serveUntilCancelled(t, cfg, "https")
	defer stop()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d", resp.StatusCode)
	}
	client.CloseIdleConnections()

	plain := "http" + strings.TrimPrefix(url, "https")
	if resp, err := http.Get(plain + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP was served on the TLS listener")
		}
	}
}

// A separate metrics listener serves /metrics, and the main one stops doing so.
func TestMetricsOnSeparateListener(t *testing.T) {
	cfg := testConfig()
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Metrics.Listen = mln.Addr().String()
	mln.Close() // Serve binds it again
	url, stop := serveUntilCancelled(t, cfg, "http")
	defer stop()

	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("main listener /metrics = %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get("http://" + cfg.Metrics.Listen + "/metrics")
	if err != nil {
		t.Fatalf("metrics listener: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "mcpgate_build_info") {
		t.Errorf("metrics listener body lacks mcpgate_build_info")
	}
}

func writeTestCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
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
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile, pool
}
