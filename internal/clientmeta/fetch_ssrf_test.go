package clientmeta

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// TestFetchPinsTheCheckedAddress: the resolver answers loopback (admitted
// for TrustHost) once, then an unreachable address. The fetch succeeds
// only if the connection goes to the address that was checked, with one
// lookup: neither a second lookup nor the system resolver is consulted.
func TestFetchPinsTheCheckedAddress(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	e.res.next = map[string][]netip.Addr{trustedName: addrs("192.0.2.1")}
	if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/client.json")); err != nil {
		t.Fatal(err)
	}
	if n := e.res.count(); n != 1 {
		t.Fatalf("%d lookups, want exactly 1", n)
	}
}

func TestFetchRefusesNonPublicAddresses(t *testing.T) {
	for _, a := range [][]string{
		{"10.0.0.1"}, {"127.0.0.1"}, {"169.254.169.254"}, {"100.64.0.1"}, {"0.0.0.0"},
		{"192.0.2.1"}, {"198.18.0.1"}, {"224.0.0.1"}, {"255.255.255.255"},
		{"::1"}, {"::"}, {"fd00::1"}, {"fe80::1"}, {"ff02::1"}, {"2001:db8::1"},
		{"::ffff:10.0.0.1"}, {"::ffff:127.0.0.1"}, {"64:ff9b::a00:1"}, {"2002:a00:1::1"},
		{"8.8.8.8", "127.0.0.1"}, // any bad answer refuses the whole fetch
	} {
		t.Run(strings.Join(a, ","), func(t *testing.T) {
			e := newEnv(t, serveDoc(nil))
			e.res.answers["evil.example"] = addrs(a...)
			_, _, err := e.f.Fetch(context.Background(), e.url("evil.example", "/client.json"))
			if !errors.Is(err, ErrFetch) || !errors.Is(err, errNotPublic) {
				t.Fatalf("err = %v, want the address refused", err)
			}
			if e.hits.Load() != 0 {
				t.Fatal("the server was reached")
			}
		})
	}
}

func TestFetchRefusesLoopbackLiteralWithoutTrustHost(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	e.f.TrustHost = ""
	for _, host := range []string{"127.0.0.1", "[::1]", trustedName} {
		if _, _, err := e.f.Fetch(context.Background(), e.url(host, "/c")); !errors.Is(err, errNotPublic) {
			t.Errorf("%s: err = %v, want the address refused", host, err)
		}
	}
	if e.hits.Load() != 0 {
		t.Fatal("the server was reached")
	}
}

// TrustHost admits loopback for exactly its host:port, and nothing else
// that is special-use.
func TestFetchTrustHostIsNarrow(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	e.res.answers["other.example.com"] = addrs("127.0.0.1")
	if _, _, err := e.f.Fetch(context.Background(), e.url("other.example.com", "/c")); !errors.Is(err, errNotPublic) {
		t.Errorf("another name on loopback: err = %v", err)
	}
	e.f.TrustHost = trustedName + ":1"
	if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c")); !errors.Is(err, errNotPublic) {
		t.Errorf("TrustHost with another port: err = %v", err)
	}
	e.f.TrustHost = trustedName + ":" + e.port
	e.res.answers[trustedName] = addrs("10.0.0.1")
	if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/d")); !errors.Is(err, errNotPublic) {
		t.Errorf("TrustHost on a private address: err = %v", err)
	}
	if e.hits.Load() != 0 {
		t.Fatal("the server was reached")
	}
}

func TestFetchVerifiesTLS(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	e.f.TrustCA = nil // system roots do not know the test CA
	if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c")); !errors.As(err, new(*tls.CertificateVerificationError)) {
		t.Fatalf("err = %v, want a TLS verification failure", err)
	}
}

func TestFetchRefusesRedirects(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/client.json", http.StatusFound)
			return
		}
		serveDoc(func(m *Metadata) { m.ClientID = "https://" + r.Host + "/moved" })(w, r)
	})
	_, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/moved"))
	if !errors.Is(err, ErrFetch) || !errors.Is(err, errRedirect) {
		t.Fatalf("err = %v, want the redirect refused", err)
	}
	if e.hits.Load() != 1 {
		t.Fatalf("%d requests, want 1: the redirect was followed", e.hits.Load())
	}
}

func TestPublicAddr(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700::1111": true, "::ffff:8.8.8.8": true,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "127.0.0.53": false,
		"100.127.255.255": false, "169.254.0.1": false, "203.0.113.9": false, "198.51.100.1": false,
		"240.0.0.1": false, "fc00::1": false, "fe80::1%eth0": false, "::ffff:192.168.0.1": false,
		"3fff::1": false, "2001::1": false, "100::1": false,
	} {
		if got := publicAddr(netip.MustParseAddr(s)); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", s, got, want)
		}
	}
}
