package server

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func loopbackListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestDemoRefusesNonLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := DemoConfig(t.TempDir(), ln); err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Fatalf("DemoConfig on %s = %v, want a loopback-only refusal", ln.Addr(), err)
	}
}

// The demo's sealing key is created private, validates, and never changes
// across restarts (data sealed with it would become unreadable).
func TestDemoSealKeyIsPrivateAndStable(t *testing.T) {
	dir := t.TempDir()
	first, err := DemoConfig(dir, loopbackListener(t))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("seal.key mode %o, want 600", fi.Mode().Perm())
	}
	second, err := DemoConfig(dir, loopbackListener(t))
	if err != nil {
		t.Fatal(err)
	}
	if first.Secrets.Keys[0].Value != second.Secrets.Keys[0].Value {
		t.Error("the demo sealing key changed across restarts")
	}
	if err := first.Validate(); err != nil {
		t.Errorf("demo config does not validate: %v", err)
	}
}

// Demos starting at once on one data directory agree on one key.
func TestDemoSealKeyConcurrentStart(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		ln := loopbackListener(t)
		wg.Go(func() {
			<-start
			cfg, err := DemoConfig(dir, ln)
			errs[i] = err
			if err == nil {
				keys[i] = cfg.Secrets.Keys[0].Value
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("demo %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("demo %d got a different key", i)
		}
	}
}

func TestDemoSealKeyProblemsNameTheFile(t *testing.T) {
	for name, setup := range map[string]func(path string) error{
		"damaged": func(p string) error { return os.WriteFile(p, []byte("not a key\n"), 0o600) },
		"empty":   func(p string) error { return os.WriteFile(p, nil, 0o600) },
		"readable": func(p string) error {
			if err := os.WriteFile(p, []byte(testSealKey+"\n"), 0o600); err != nil {
				return err
			}
			return os.Chmod(p, 0o644) // explicit: WriteFile's mode is subject to the umask
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "seal.key")
			if err := setup(path); err != nil {
				t.Fatal(err)
			}
			_, err := DemoConfig(dir, loopbackListener(t))
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("DemoConfig = %v, want an error naming %s", err, path)
			}
		})
	}
}
