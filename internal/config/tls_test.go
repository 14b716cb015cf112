package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseTLS parses a config that serves TLS on every interface with the
// given tls section.
func parseTLS(t *testing.T, baseDir, tls string) (*Config, error) {
	t.Helper()
	data := "public_url: https://mcp.example.com\nlisten: \":8443\"\n" + tls +
		"secrets: {keys: [{id: k1, value: \"${SEAL_K1}\"}]}\n"
	return Parse([]byte(data), baseDir, lookupTestEnv)
}

// TestTLSFilesResolved: relative tls paths resolve against the config
// file's directory, and the absolute paths are stored so the server opens
// the files that were checked.
func TestTLSFilesResolved(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeKeyPair(t, filepath.Join(dir, "tls", "c.pem"), filepath.Join(dir, "tls", "k.pem"))
	cfg, err := parseTLS(t, dir, "tls: {cert_file: tls/c.pem, key_file: "+filepath.Join(dir, "tls", "k.pem")+"}\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "tls", "c.pem"); cfg.TLS.CertFile != want {
		t.Errorf("cert_file = %q, want %q", cfg.TLS.CertFile, want)
	}
	if want := filepath.Join(dir, "tls", "k.pem"); cfg.TLS.KeyFile != want {
		t.Errorf("key_file = %q, want %q", cfg.TLS.KeyFile, want)
	}
}

// TestTLSFilesRefused: a certificate and key that would not load are a
// problem at load time, which names the reason and never the key's
// contents.
func TestTLSFilesRefused(t *testing.T) {
	dir := t.TempDir()
	writeKeyPair(t, filepath.Join(dir, "a.crt"), filepath.Join(dir, "a.key"))
	writeKeyPair(t, filepath.Join(dir, "b.crt"), filepath.Join(dir, "b.key"))
	writeFile(t, filepath.Join(dir, "garbage"), []byte("not PEM at all\n"))
	writeFile(t, filepath.Join(dir, "huge"), make([]byte, maxPEMFile+1))
	key, err := os.ReadFile(filepath.Join(dir, "a.key"))
	if err != nil {
		t.Fatal(err)
	}
	keyBody := strings.Split(string(key), "\n")[1] // first base64 line of the key
	for pair, want := range map[[2]string]string{
		{"/nonexistent/cert.pem", "a.key"}: `cannot load certificate and key: "/nonexistent/cert.pem": no such file or directory`,
		{"a.crt", "missing.key"}:           `cannot load certificate and key: "` + filepath.Join(dir, "missing.key") + `": no such file or directory`,
		{"a.crt", "b.key"}:                 "cannot load certificate and key: private key does not match public key",
		{"a.key", "a.crt"}:                 "cannot load certificate and key: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched",
		{"a.crt", "a.crt"}:                 "cannot load certificate and key: found a certificate rather than a key in the PEM for the private key",
		{"a.crt", "garbage"}:               "cannot load certificate and key: failed to find any PEM data in key input",
		{"huge", "a.key"}:                  `cannot load certificate and key: "` + filepath.Join(dir, "huge") + `" is larger than 1 MiB; is it the right file?`,
		{".", "a.key"}:                     `cannot load certificate and key: "` + dir + `": is a directory`,
	} {
		_, err := parseTLS(t, dir, "tls: {cert_file: "+pair[0]+", key_file: "+pair[1]+"}\n")
		var got string
		if ps, ok := err.(Problems); ok && len(ps) == 1 && ps[0].Path == "tls" {
			got = ps[0].Message
		}
		if got != want {
			t.Errorf("tls %v: got %v, want tls: %s", pair, err, want)
		}
		if err != nil && strings.Contains(err.Error(), keyBody) {
			t.Errorf("tls %v: the problem shows key material: %v", pair, err)
		}
	}
}

// TestTLSHalfGiven: with only one file, Validate's "required" is the
// problem, and nothing is loaded.
func TestTLSHalfGiven(t *testing.T) {
	_, err := parseTLS(t, t.TempDir(), "tls: {cert_file: /nonexistent/cert.pem}\n")
	if err == nil || err.Error() != "tls.key_file: required when tls.cert_file is set" {
		t.Fatalf("Parse = %v", err)
	}
}
