package clientip

import "testing"

// TestKey: IPv4 addresses are their own key; IPv6 addresses share one key
// per /64, because one host or customer owns a whole /64 and could
// otherwise rotate source addresses to get a fresh bucket each time.
func TestKey(t *testing.T) {
	cases := []struct{ in, want string }{
		{"198.51.100.7", "198.51.100.7"},
		{"::ffff:198.51.100.7", "198.51.100.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"", ""},
		{"not an address", "not an address"},
	}
	for _, tc := range cases {
		if got := Key(tc.in); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"198.51.100.7", "2001:db8::1", "fe80::1%eth0", "::ffff:1.2.3.4", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Key(s)
		if k != Key(s) {
			t.Fatalf("Key(%q) is not deterministic", s)
		}
		if len(k) > len(s)+len("/64") && k != s {
			t.Fatalf("Key(%q) = %q grew the input", s, k)
		}
	})
}
