package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcpgate/mcpgate/internal/config"
)

// DemoDataDir is the default demo data directory: under the user's cache
// directory, so a demo never writes into the working tree.
func DemoDataDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory (pass --data): %w", err)
	}
	return filepath.Join(cache, "mcpgate", "demo"), nil
}

// DemoConfig prepares dataDir (created 0700 if missing, with a generated
// sealing key kept in it) and returns the demo configuration for a server
// listening on ln: embedded SQLite, loopback-only, text logs.
func DemoConfig(dataDir string, ln net.Listener) (*config.Config, error) {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() {
		return nil, fmt.Errorf("demo listens on loopback only, not %s", ln.Addr())
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("demo data directory: %w", err)
	}
	key, err := demoSealKey(filepath.Join(dataDir, "seal.key"))
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.PublicURL = "http://" + addr.String()
	cfg.Listen = addr.String()
	cfg.Storage = config.Storage{Driver: "sqlite", DSN: filepath.Join(dataDir, "mcpgate.db")}
	cfg.Logging.Format = "text"
	cfg.Secrets = config.Secrets{Keys: []config.SealKey{{ID: "demo", Value: key}}, Active: "demo"}
	return cfg, nil
}

// demoSealKey returns the demo's sealing key from path, creating it first
// if there is none. The key seals everything at rest, so the file must be
// private, and it must never change once created (data sealed with it would
// be lost).
func demoSealKey(path string) (string, error) {
	if err := createSealKey(path); err != nil {
		return "", fmt.Errorf("demo sealing key %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("demo sealing key %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("demo sealing key %s is readable by other users (mode %o); run chmod 600 on it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("demo sealing key %s: %w", path, err)
	}
	key := strings.TrimSpace(string(b))
	if _, err := (config.SealKey{Value: key}).Key(); err != nil {
		return "", fmt.Errorf("demo sealing key %s is damaged (%v); move it away to start afresh (data sealed with it becomes unreadable)", path, err)
	}
	return key, nil
}

// createSealKey writes a random 32-byte key to a private temporary file and
// links it into place, so path either does not exist or holds a whole key:
// a crash mid-write, or two demos starting at once, can never leave a
// partial key behind. An existing key is kept.
func createSealKey(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".seal.key.*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	key := make([]byte, config.SealKeySize)
	rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err = errors.Join(err, tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	// os.Link fails if path exists: the first demo to link wins and every
	// other one uses its key.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
