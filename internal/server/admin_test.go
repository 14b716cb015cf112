package server

import (
	"bytes"
	"io"
	"testing"

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
