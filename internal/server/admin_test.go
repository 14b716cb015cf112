package server

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"

	"github.com/mcpgate/mcpgate/internal/keys"
	"github.com/mcpgate/mcpgate/internal/seal"
)

func openTestAdmin(t *testing.T) *Admin {
	t.Helper()
	a, err := OpenAdmin(t.Context(), testConfig(), Options{AuditStdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// `mcpgate keys list` is read-only: on a store with no signing key it
// lists none and creates none.
func TestListKeysWritesNothing(t *testing.T) {
	a := openTestAdmin(t)
	if ks, err := a.ListKeys(t.Context()); err != nil || len(ks) != 0 {
		t.Fatalf("ListKeys on an empty store = %v, %v; want no keys", ks, err)
	}
	if stored, err := a.store.ListSigningKeys(t.Context()); err != nil || len(stored) != 0 {
		t.Fatalf("listing left %d keys in the store (%v)", len(stored), err)
	}
}

// A key whose private part does not open with the configured secrets is
// listed with its problem (docs/operations.md), not a failed listing.
func TestListKeysShowsKeyThatDoesNotOpen(t *testing.T) {
	a := openTestAdmin(t)
	other, err := seal.New([]seal.Key{{ID: "other", Secret: bytes.Repeat([]byte{9}, seal.KeySize)}}, "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.New(t.Context(), keys.Options{Store: a.store, Seal: other, Now: a.now}); err != nil {
		t.Fatal(err)
	}
	ks, err := a.ListKeys(t.Context())
	if err != nil || len(ks) != 1 || ks[0].Problem == "" {
		t.Fatalf("ListKeys = %+v, %v; want one key with a problem", ks, err)
	}
}

// `mcpgate keys rotate` on a store with no key creates the first key and
// stops there: one key, signing now, not a first key plus a "next" one.
func TestRotateKeyOnEmptyStoreCreatesOneKey(t *testing.T) {
	a := openTestAdmin(t)
	k, err := a.RotateKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stored, err := a.store.ListSigningKeys(t.Context())
	if err != nil || len(stored) != 1 || stored[0].ID != k.ID {
		t.Fatalf("store after the first rotate: %d keys (%v), want exactly %s", len(stored), err, k.ID)
	}
	if k.ActiveAt.After(a.now()) {
		t.Fatalf("the first key signs from %v, want at once", k.ActiveAt)
	}
	if _, err := a.RotateKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	if stored, _ := a.store.ListSigningKeys(t.Context()); len(stored) != 2 {
		t.Fatalf("a second rotate left %d keys, want 2", len(stored))
	}
}

// An admin command pointed at a SQLite file that does not exist (a
// mistyped path) fails and creates nothing.
func TestOpenAdminRefusesMissingSQLiteFile(t *testing.T) {
	cfg := testConfig()
	missing := filepath.Join(t.TempDir(), "typo.db")
	cfg.Storage = config.Storage{Driver: "sqlite", DSN: missing}
	if a, err := OpenAdmin(t.Context(), cfg, Options{AuditStdout: io.Discard}); err == nil {
		a.Close()
		t.Fatal("OpenAdmin accepted a SQLite path with no database")
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the missing database file was created: %v", err)
	}
}
