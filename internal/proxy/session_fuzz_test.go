package proxy

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/mcpgate/mcpgate/internal/seal"
)

func testSessions(t testing.TB) *sessions {
	t.Helper()
	ring, err := seal.New([]seal.Key{{ID: "k1", Secret: bytes.Repeat([]byte{7}, seal.KeySize)}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	return newSessions(ring, "files")
}

// variant returns id with its last character changed so that its unused
// low bits are no longer zero: lenient base64 still decodes it to the
// same bytes.
func variant(id string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := bytes.IndexByte([]byte(alphabet), id[len(id)-1])
	return id[:len(id)-1] + string(alphabet[last|1])
}

// TestSessionIDHasOneSpelling: an Mcp-Session-Id opens only in the exact
// spelling the gateway issued; a second spelling of the same sealed bytes
// is an unknown session.
func TestSessionIDHasOneSpelling(t *testing.T) {
	s := testSessions(t)
	id, err := s.seal(binding{Session: "up-1", Subject: "local:alice", Client: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if v := variant(id); v != id {
		if b, ok := testSessions(t).open(v); ok {
			t.Fatalf("a second spelling %q of %q opened to %+v", v, id, b)
		}
	}
}

// FuzzSessionOpen: whatever Mcp-Session-Id a client sends, it opens only
// when it is exactly the canonical unpadded base64url encoding of a value
// this route sealed, and then to a binding with a session; re-sealing
// that binding gives the same ID back (round trip).
func FuzzSessionOpen(f *testing.F) {
	s := testSessions(f)
	id, err := s.seal(binding{Session: "up-1", Subject: "local:alice", Client: "c"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(id)
	f.Add(variant(id))
	f.Add(id + "A")
	f.Add("")
	f.Add("not base64!")
	f.Fuzz(func(t *testing.T, in string) {
		fresh := testSessions(t)
		b, ok := fresh.open(in)
		if !ok {
			return
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(in)
		if err != nil || base64.RawURLEncoding.EncodeToString(raw) != in {
			t.Fatalf("%q opened but is not canonical base64url", in)
		}
		if b.Session == "" {
			t.Fatalf("%q opened to a binding without session", in)
		}
		if again, err := fresh.seal(b); err != nil || again != in {
			t.Fatalf("%q opened to %+v, which seals to %q", in, b, again)
		}
	})
}
