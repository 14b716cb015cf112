package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// resolvePaths makes the file paths the server opens absolute, relative to
// the config file's directory like the *_file twins, and checks that the
// TLS certificate and key and the CIMD test CA load. Without it a relative
// path would follow the working directory, which under systemd is "/": the
// default "mcpgate.db" would become /mcpgate.db. Parse calls it after
// Validate, so a DSN it rewrites has already been checked as a file path.
func (p *parser) resolvePaths(cfg *Config) {
	if cfg.Storage.Driver == "sqlite" && isRelativeSQLitePath(cfg.Storage.DSN) {
		cfg.Storage.DSN = absPath(p.baseDir, cfg.Storage.DSN)
	}
	p.loadTLS(&cfg.TLS)
	p.loadCIMDTrust(cfg.Registration.CIMDTestTrust)
}

// isRelativeSQLitePath leaves alone what the store refuses with its own
// message (":memory:", "file:" URIs), which joining to a directory would
// turn into a misleading path.
func isRelativeSQLitePath(dsn string) bool {
	return dsn != "" && !filepath.IsAbs(dsn) && dsn != ":memory:" && !strings.HasPrefix(dsn, "file:")
}

// absPath resolves name against baseDir unless it is absolute, and makes
// the result absolute, so it means the same file whatever the working
// directory is when it is opened.
func absPath(baseDir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	name = filepath.Join(baseDir, name)
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return name
}

// loadTLS checks that the certificate and key load as a pair now, so that
// `mcpgate config check` catches a missing or mismatched file instead of
// the server after it announced it started. The resolved absolute paths
// are stored back so the server opens the files just checked.
func (p *parser) loadTLS(t *TLS) {
	if t.CertFile == "" || t.KeyFile == "" || p.failed["tls.cert_file"] || p.failed["tls.key_file"] {
		return // Validate reports a missing half; expand an unset reference
	}
	t.CertFile, t.KeyFile = absPath(p.baseDir, t.CertFile), absPath(p.baseDir, t.KeyFile)
	if err := checkKeyPair(t.CertFile, t.KeyFile); err != nil {
		p.problems.add("tls", "cannot load certificate and key: "+err.Error())
	}
}

// maxPEMFile bounds each TLS file; a certificate chain is a few KiB. The
// bound turns cert_file: /dev/zero into a problem instead of an endless
// read, which tls.LoadX509KeyPair (reading whole files) would not.
const maxPEMFile = 1 << 20

// checkKeyPair is tls.LoadX509KeyPair on bounded reads (LoadKeyPair).
func checkKeyPair(certFile, keyFile string) error {
	_, err := LoadKeyPair(certFile, keyFile)
	return err
}

func readPEMFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%q: %s", name, reason(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q: %s", name, reason(err))
	case len(data) > maxPEMFile:
		return nil, fmt.Errorf("%q is larger than 1 MiB; is it the right file?", name)
	}
	return data, nil
}
