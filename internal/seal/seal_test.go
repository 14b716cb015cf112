package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"slices"
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

// Any flipped bit (header, salt, nonce, ciphertext or tag) or truncation
// fails. The key ID is authenticated, so relabelling a value under another
// key of the ring fails too.
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

// parts is a sealed value taken apart along its layout.
type parts struct{ head, salt, nonce, ct []byte }

func split(t *testing.T, sealed []byte) parts {
	t.Helper()
	n := 2 + int(sealed[1])
	if len(sealed) < n+saltSize+nonceSize+tagSize {
		t.Fatalf("sealed value of %d bytes is too short", len(sealed))
	}
	return parts{
		head:  sealed[:n],
		salt:  sealed[n : n+saltSize],
		nonce: sealed[n+saltSize : n+saltSize+nonceSize],
		ct:    sealed[n+saltSize+nonceSize:],
	}
}

func (p parts) join() []byte { return slices.Concat(p.head, p.salt, p.nonce, p.ct) }

// SE-2: every value is sealed under its own key, derived from a salt the
// value carries. Under one fixed key, GCM with random nonces is bounded to
// 2^32 messages (NIST SP 800-38D §8.3), which refresh-rate sealing reaches
// in about a month.
func TestEachSealHasItsOwnKey(t *testing.T) {
	k := ring(t, "k1", key("k1", 1))
	master, aad := key("k1", 1).Secret, []byte("token-a")
	a, _ := k.Seal(PurposeRefreshSuccessor, []byte("same"), aad)
	b, _ := k.Seal(PurposeRefreshSuccessor, []byte("same"), aad)
	pa, pb := split(t, a), split(t, b)
	ka, _ := messageKey(master, pa.salt, PurposeRefreshSuccessor)
	kb, _ := messageKey(master, pb.salt, PurposeRefreshSuccessor)
	if bytes.Equal(pa.salt, pb.salt) || bytes.Equal(ka, kb) {
		t.Fatal("two seals of the same plaintext used the same key")
	}
	// The key derived from a value's salt is the one that sealed it:
	// plain GCM under it opens the value, under the other's key it does not.
	for _, c := range []struct {
		p          parts
		own, other []byte
	}{{pa, ka, kb}, {pb, kb, ka}} {
		if got, err := gcmOpen(t, c.own, c.p, aad); err != nil || string(got) != "same" {
			t.Fatalf("GCM under the value's own derived key: %q, %v", got, err)
		}
		if _, err := gcmOpen(t, c.other, c.p, aad); err == nil {
			t.Fatal("a value opened under another value's key")
		}
	}
	// Swapping the salts makes both values derive the wrong key.
	pa.salt, pb.salt = pb.salt, pa.salt
	for _, v := range [][]byte{pa.join(), pb.join()} {
		if _, err := k.Open(PurposeRefreshSuccessor, v, aad); !errors.Is(err, ErrOpen) {
			t.Fatalf("a value with another value's salt opened: %v", err)
		}
	}
}

func gcmOpen(t *testing.T, key []byte, p parts, aad []byte) ([]byte, error) {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead.Open(nil, p.nonce, p.ct, additional(p.head, aad))
}

func TestKeysDifferPerPurpose(t *testing.T) {
	master, salt := key("k1", 1).Secret, make([]byte, saltSize)
	seen := map[string]Purpose{}
	for _, p := range purposes {
		k, err := messageKey(master, salt, p)
		if err != nil {
			t.Fatal(err)
		}
		if q, dup := seen[string(k)]; dup {
			t.Fatalf("%s and %s derive the same key from one salt", p, q)
		}
		seen[string(k)] = p
	}
}

// Keys are copied in: a caller reusing its buffer does not change them.
func TestNewCopiesSecrets(t *testing.T) {
	secret := bytes.Repeat([]byte{1}, KeySize)
	k := ring(t, "k1", Key{ID: "k1", Secret: secret})
	sealed, _ := k.Seal(PurposeCookie, []byte("x"), nil)
	clear(secret)
	if _, err := k.Open(PurposeCookie, sealed, nil); err != nil {
		t.Fatalf("clearing the caller's buffer changed the key: %v", err)
	}
}

func TestUnknownPurposeRefused(t *testing.T) {
	k := ring(t, "k1", key("k1", 1))
	if _, err := k.Seal("other", []byte("x"), nil); err == nil {
		t.Fatal("sealed for an unknown purpose")
	}
	sealed, _ := k.Seal(PurposeCookie, []byte("x"), nil)
	if _, err := k.Open("other", sealed, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open with an unknown purpose: %v", err)
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
