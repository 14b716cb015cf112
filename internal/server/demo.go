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
	keyFile := filepath.Join(dataDir, "seal.key")
	if err := ensureSealKey(keyFile); err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.PublicURL = "http://" + addr.String()
	cfg.Listen = addr.String()
	cfg.Storage = config.Storage{Driver: "sqlite", DSN: filepath.Join(dataDir, "mcpgate.db")}
	cfg.Logging.Format = "text"
	key, err := readSealKey(keyFile)
	if err != nil {
		return nil, err
	}
	cfg.Secrets = config.Secrets{Keys: []config.SealKey{{ID: "demo", Value: key}}, Active: "demo"}
	return cfg, nil
}

// ensureSealKey creates a random 32-byte sealing key in path unless one is
// there. O_EXCL keeps two concurrent demos from overwriting each other's key.
func ensureSealKey(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo sealing key: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	return errors.Join(err, f.Close())
}

func readSealKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("demo sealing key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
