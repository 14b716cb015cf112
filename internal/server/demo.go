package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/login"
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

// Demo names: the demo user, its upstream's path and scopes.
const (
	DemoUser       = "demo"
	DemoPath       = "/mcp/demo"
	DemoScope      = "demo:read"
	DemoAdminScope = "demo:admin"
	demoAdmins     = "demo-admins"
)

// Demo is what `mcpgate demo` runs and prints.
type Demo struct {
	Config   *config.Config
	Password string // the demo user's password, kept in the data directory
	MCPURL   string // the URL to paste into an MCP client
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

// NewDemo is DemoConfig plus the parts that make the demo usable from a
// real MCP client: the local provider with one user (its password
// generated once and kept, private, in dataDir), and the built-in MCP
// upstream at upstreamURL behind DemoPath. Every tool needs demo:read;
// demoupstream.AdminTool also needs demo:admin, which only the demo-admins
// group may be granted, so the first call to it shows a step-up.
func NewDemo(dataDir string, ln net.Listener, upstreamURL string) (*Demo, error) {
	cfg, err := DemoConfig(dataDir, ln)
	if err != nil {
		return nil, err
	}
	password, err := demoSecret(filepath.Join(dataDir, "demo-password"))
	if err != nil {
		return nil, err
	}
	hash, err := login.HashArgon2id(password)
	if err != nil {
		return nil, err
	}
	cfg.IdentityProviders = []config.IdentityProvider{{ID: "local", Type: "local", Users: []config.LocalUser{
		{Username: DemoUser, PasswordHash: hash, Email: "demo@localhost", Groups: []string{demoAdmins}},
	}}}
	cfg.Scopes = []config.Scope{
		{Name: DemoScope, Description: "Use the demo MCP server's tools"},
		{Name: DemoAdminScope, Description: "Reset the demo server's counter", Implies: []string{DemoScope}, Groups: []string{demoAdmins}},
		{Name: config.ScopeOfflineAccess, Description: "Stay signed in"},
	}
	cfg.Upstreams = []config.Upstream{{
		Name: "demo", Path: DemoPath, URL: upstreamURL, Scopes: []string{DemoScope},
		Tools: []config.ToolRule{{Match: demoupstream.AdminTool, Scopes: []string{DemoAdminScope}}},
		IdentityHeaders: config.IdentityHeaders{
			Subject: demoupstream.SubjectHeader, Email: demoupstream.EmailHeader, Groups: demoupstream.GroupsHeader,
		},
	}}
	cfg.ApplyDefaults()
	return &Demo{Config: cfg, Password: password, MCPURL: cfg.PublicURL + DemoPath}, nil
}

// StartDemoUpstream serves the built-in MCP server on a loopback port and
// returns its URL and a function that stops it.
func StartDemoUpstream() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo upstream: %w", err)
	}
	srv := &http.Server{Handler: demoupstream.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
	}
	return "http://" + ln.Addr().String() + "/mcp", stop, nil
}

// demoSecret returns the demo password kept at path, creating it first.
// Like the sealing key it is written once and atomically, and must stay
// private: it logs into the demo.
func demoSecret(path string) (string, error) {
	if err := createSecretFile(path, func() string { return base64.RawURLEncoding.EncodeToString(randomBytes(12)) }); err != nil {
		return "", fmt.Errorf("demo password %s: %w", path, err)
	}
	b, err := readPrivate(path)
	if err != nil {
		return "", fmt.Errorf("demo password %s: %w", path, err)
	}
	pw := strings.TrimSpace(string(b))
	if len(pw) < 12 {
		return "", fmt.Errorf("demo password %s is damaged; delete it to get a new one", path)
	}
	return pw, nil
}

// demoSealKey returns the demo's sealing key from path, creating it first
// if there is none. The key seals everything at rest, so the file must be
// private, and it must never change once created (data sealed with it would
// be lost).
func demoSealKey(path string) (string, error) {
	newKey := func() string { return base64.StdEncoding.EncodeToString(randomBytes(config.SealKeySize)) }
	if err := createSecretFile(path, newKey); err != nil {
		return "", fmt.Errorf("demo sealing key %s: %w", path, err)
	}
	b, err := readPrivate(path)
	if err != nil {
		return "", fmt.Errorf("demo sealing key %s: %w", path, err)
	}
	key := strings.TrimSpace(string(b))
	if _, err := (config.SealKey{Value: key}).Key(); err != nil {
		return "", fmt.Errorf("demo sealing key %s is damaged (%v); move it away to start afresh (data sealed with it becomes unreadable)", path, err)
	}
	return key, nil
}

// readPrivate reads a demo secret, refusing one other users can read.
func readPrivate(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("readable by other users (mode %o); run chmod 600 on it", fi.Mode().Perm())
	}
	return os.ReadFile(path)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// createSecretFile writes newValue() to a private temporary file and links
// it into place, so path either does not exist or holds a whole value: a
// crash mid-write, or two demos starting at once, can never leave a
// partial secret behind. An existing file is kept.
func createSecretFile(path string, newValue func() string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(newValue() + "\n")
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
