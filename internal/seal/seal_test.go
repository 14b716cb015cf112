package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

func key(id string, b byte) Key { return Key{ID: id, Secret: bytes.Repeat([]byte{b}, KeySize)} }

func ring(t testing.TB, active string, keys ...Key) *Keyring {
	t.Helper()
	k, err := New(keys, active)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := ring(t, "k1", key("k1", 1))
	for _, p := range purposes {
		sealed, err := k.Seal(p, []byte("secret value"), []byte("record-1"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("secret value")) {
			t.Fatalf("%s: plaintext visible in sealed value", p)
		}
		got, err := k.Open(p, sealed, []byte("record-1"))
		if err != nil || string(got) != "secret value" {
			t.Fatalf("%s: Open = %q, %v", p, got, err)
		}
	}
}

// A value sealed for one purpose must not open as another: a cookie an
// attacker got us to seal must never be accepted as a signing key.
func TestOpenRefusesOtherPurpose(t *testing.T) {
	k := ring(t, "k1", key("k1", 1))
	sealed, _ := k.Seal(PurposeCookie, []byte("x"), nil)
	for _, p := range purposes[1:] {
		if _, err := k.Open(p, sealed, nil); !errors.Is(err, ErrOpen) {
			t.Errorf("opened a cookie value as %s: %v", p, err)
		}
	}
}

// The aad binds a value to its record: a sealed successor copied onto
// another refresh token does not open there.
func TestOpenRefusesOtherAAD(t *testing.T) {
	k := ring(t, "k1", key("k1", 1))
	sealed, _ := k.Seal(PurposeRefreshSuccessor, []byte("x"), []byte("token-a"))
	if _, err := k.Open(PurposeRefreshSuccessor, sealed, []byte("token-b")); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened with another aad: %v", err)
	}
}

func TestRotationOldKeysStillOpen(t *testing.T) {
	old := ring(t, "k1", key("k1", 1))
	sealedOld, _ := old.Seal(PurposeState, []byte("before"), nil)

	rotated := ring(t, "k2", key("k1", 1), key("k2", 2))
	sealedNew, _ := rotated.Seal(PurposeState, []byte("after"), nil)
	if got, err := rotated.Open(PurposeState, sealedOld, nil); err != nil || string(got) != "before" {
		t.Fatalf("old value after rotation: %q, %v", got, err)
	}
	if _, err := old.Open(PurposeState, sealedNew, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("a ring without k2 opened a k2 value: %v", err)
	}
	if rotated.ActiveKeyID() != "k2" || !bytes.HasPrefix(sealedNew, []byte{version, 2, 'k', '2'}) {
		t.Fatalf("new values must be sealed under the active key k2: %q", sealedNew[:4])
	}
	// Dropping k1 once nothing needs it makes its values unreadable.
	dropped := ring(t, "k2", key("k2", 2))
	if _, err := dropped.Open(PurposeState, sealedOld, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("retired key still opens: %v", err)
	}
}

// Two keys with the same ID but different secrets: the key ID is
// authenticated, so relabelling a value under another ID fails too.
func TestOpenRefusesTampering(t *testing.T) {
	k := ring(t, "k1", key("k1", 1), key("k2", 2))
	sealed, _ := k.Seal(PurposeUpstreamToken, []byte("token"), nil)
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := k.Open(PurposeUpstreamToken, bad, nil); !errors.Is(err, ErrOpen) {
			t.Fatalf("flipping byte %d still opened: %v", i, err)
		}
	}
	relabelled := bytes.Clone(sealed)
	relabelled[3] = '2' // "k1" -> "k2"
	if _, err := k.Open(PurposeUpstreamToken, relabelled, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("relabelled key ID opened: %v", err)
	}
	for n := range len(sealed) {
		if _, err := k.Open(PurposeUpstreamToken, sealed[:n], nil); !errors.Is(err, ErrOpen) {
			t.Fatalf("truncated to %d bytes opened: %v", n, err)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	k := ring(t, "k1", key("k1", 1))
	seen := map[string]bool{}
	for range 100 {
		s, _ := k.Seal(PurposeCookie, []byte("same"), nil)
		if seen[string(s)] {
			t.Fatal("two seals of the same plaintext are identical: nonce reused")
		}
		seen[string(s)] = true
	}
}

func TestSubkeysDifferPerPurpose(t *testing.T) {
	a, _ := subkeys(bytes.Repeat([]byte{1}, KeySize))
	nonce := make([]byte, 12)
	c1 := a[PurposeCookie].Seal(nil, nonce, []byte("x"), nil)
	c2 := a[PurposeState].Seal(nil, nonce, []byte("x"), nil)
	if bytes.Equal(c1, c2) {
		t.Fatal("two purposes share a subkey")
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	cases := map[string]struct {
		keys   []Key
		active string
		want   string
	}{
		"short":     {[]Key{{ID: "k", Secret: []byte("short")}}, "k", "must be 32 bytes"},
		"no id":     {[]Key{{Secret: make([]byte, KeySize)}}, "", "key ID"},
		"duplicate": {[]Key{key("k", 1), key("k", 2)}, "k", "duplicate"},
		"inactive":  {[]Key{key("k", 1)}, "other", "not among"},
		"long id":   {[]Key{key(strings.Repeat("x", 256), 1)}, strings.Repeat("x", 256), "1-255"},
	}
	for name, c := range cases {
		if _, err := New(c.keys, c.active); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

func TestFromConfig(t *testing.T) {
	v1 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	k, err := FromConfig(config.Secrets{Keys: []config.SealKey{{ID: "a", Value: v1}}, Active: "a"})
	if err != nil {
		t.Fatal(err)
	}
	direct := ring(t, "a", key("a", 7))
	sealed, _ := k.Seal(PurposeCookie, []byte("x"), nil)
	if got, err := direct.Open(PurposeCookie, sealed, nil); err != nil || string(got) != "x" {
		t.Fatalf("config key differs from its decoded bytes: %v", err)
	}
	if _, err := FromConfig(config.Secrets{Keys: []config.SealKey{{ID: "a", Value: "nope"}}, Active: "a"}); err == nil {
		t.Fatal("bad base64 accepted")
	}
}

// FuzzOpen: arbitrary bytes never panic and, unless they are a value Seal
// produced (the seed; the only plaintext ever sealed under this key is
// "v"), never open; a value that opens stops opening when any bit flips.
func FuzzOpen(f *testing.F) {
	k := ring(f, "k1", key("k1", 1))
	good, _ := k.Seal(PurposeCookie, []byte("v"), nil)
	f.Add(good)
	f.Add([]byte{version, 2, 'k', '1'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := k.Open(PurposeCookie, b, nil)
		if err != nil {
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("error other than ErrOpen: %v", err)
			}
			return
		}
		if string(got) != "v" {
			t.Fatalf("forged value opened to %q", got)
		}
		for i := range len(b) * 8 {
			bad := bytes.Clone(b)
			bad[i/8] ^= 1 << (i % 8)
			if _, err := k.Open(PurposeCookie, bad, nil); err == nil {
				t.Fatalf("bit %d flipped and the value still opened", i)
			}
		}
	})
}

func BenchmarkSealOpen(b *testing.B) {
	k := ring(b, "k1", key("k1", 1))
	plain := make([]byte, 64)
	for b.Loop() {
		s, _ := k.Seal(PurposeRefreshSuccessor, plain, []byte("id"))
		if _, err := k.Open(PurposeRefreshSuccessor, s, []byte("id")); err != nil {
			b.Fatal(err)
		}
	}
}
