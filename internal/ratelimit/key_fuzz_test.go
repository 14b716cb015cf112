package ratelimit

import (
	"net/http/httptest"
	"testing"
)

// TestUserToolKeysDistinct: pairs that a separator byte would join into
// one string get distinct keys.
func TestUserToolKeysDistinct(t *testing.T) {
	if ByUserTool("ext:a\x00b", "c").String() == ByUserTool("ext:a", "b\x00c").String() {
		t.Fatal("two (subject, tool) pairs share a rate-limit key")
	}
}

// FuzzKeyString: the stored key is injective. Two different (subject,
// tool) pairs, or (client, address) pairs, never share a key, whatever
// bytes they hold and however long (long values are hashed); and keys of
// different kinds never meet.
func FuzzKeyString(f *testing.F) {
	f.Add("ext:a\x00b", "c", "ext:a", "b\x00c")
	f.Add("local:alice", "files/read", "local:alice", "files/read")
	f.Add("1:a", "b", "1", ":ab")
	long := "0123456789012345678901234567890123456789012345678901234567890123"
	f.Add(long, "t", long+"t", "")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		same := a == c && b == d
		if (ByUserTool(a, b).String() == ByUserTool(c, d).String()) != same {
			t.Fatalf("ByUserTool(%q, %q) vs (%q, %q): keys equal is %v", a, b, c, d, !same)
		}
		k1, k2 := ByUserTool(a, b).String(), ByUser(a+b).String()
		if k1 == k2 || k1 == ByClient(a+b).String() || k2 == ByClient(a+b).String() {
			t.Fatalf("keys of different kinds meet: %q %q", k1, k2)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.1:1"
		if a != c && ByClientIP(a, r).String() == ByClientIP(c, r).String() {
			t.Fatalf("ByClientIP(%q) and ByClientIP(%q) share a key", a, c)
		}
	})
}
