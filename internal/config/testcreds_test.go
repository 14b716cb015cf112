package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// credentialsDir builds what systemd would put in $CREDENTIALS_DIRECTORY
// for the good configs, the docs examples and the fuzz seeds: the files of
// testdata/secrets plus a throwaway TLS certificate and key (tls.crt,
// tls.key), generated here so that no private key is committed. It returns
// the directory and an environment that names it.
func credentialsDir(tb testing.TB) (string, func(string) (string, bool)) {
	tb.Helper()
	dir := tb.TempDir()
	files, err := filepath.Glob("testdata/secrets/*")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no files in testdata/secrets: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		writeFile(tb, filepath.Join(dir, filepath.Base(f)), data)
	}
	writeKeyPair(tb, filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	env := func(name string) (string, bool) {
		if name == "CREDENTIALS_DIRECTORY" {
			return dir, true
		}
		return lookupTestEnv(name)
	}
	return dir, env
}

// writeKeyPair writes a fresh self-signed ECDSA P-256 certificate and its
// key as PEM files.
func writeKeyPair(tb testing.TB, certFile, keyFile string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mcp.example.com"},
		DNSNames:     []string{"mcp.example.com"},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	writeFile(tb, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(tb, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func writeFile(tb testing.TB, name string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}
