package clientip

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestResolve(t *testing.T) {
	r, err := New([]string{"10.0.0.0/8", "192.168.1.5", "::ffff:172.16.0.0/108"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"untrusted peer: header ignored", "203.0.113.9:4000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"no header from a proxy", "10.1.1.1:4000", nil, "10.1.1.1"},
		{"one hop", "10.1.1.1:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client-forged left entries are ignored", "10.1.1.1:4000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", "10.1.1.1:4000", []string{"198.51.100.7, 192.168.1.5, 10.2.2.2"}, "198.51.100.7"},
		{"several header lines", "10.1.1.1:4000", []string{"6.6.6.6", "198.51.100.7, 10.2.2.2"}, "198.51.100.7"},
		{"malformed hop stops the walk", "10.1.1.1:4000", []string{"198.51.100.7, garbage"}, "10.1.1.1"},
		{"all trusted: the leftmost", "10.1.1.1:4000", []string{"10.9.9.9"}, "10.9.9.9"},
		{"mapped peer is unmapped", "[::ffff:10.1.1.1]:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"mapped trusted prefix matches IPv4", "172.16.3.3:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"IPv6 client", "10.1.1.1:4000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"hop with a port", "10.1.1.1:4000", []string{"198.51.100.7:4711"}, "198.51.100.7"},
		{"IPv6 hop with a port", "10.1.1.1:4000", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"single trusted IP", "192.168.1.5:80", []string{"198.51.100.8"}, "198.51.100.8"},
		{"neighbour of a single trusted IP is not trusted", "192.168.1.6:80", []string{"198.51.100.8"}, "192.168.1.6"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = c.remote
		for _, v := range c.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		if got := r.Resolve(req).String(); got != c.want {
			t.Errorf("%s: Resolve = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestNoProxiesMeansPeer(t *testing.T) {
	r, _ := New(nil)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	req.Header.Set("X-Forwarded-For", "1.2.3.4")
	var got string
	r.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { got = From(req) })).ServeHTTP(httptest.NewRecorder(), req)
	if got != "127.0.0.1" {
		t.Fatalf("From = %q, want the peer 127.0.0.1", got)
	}
}

func TestFromWithoutMiddleware(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "[::1]:80"
	if got := From(req); got != "::1" {
		t.Fatalf("From = %q", got)
	}
}

func FuzzResolve(f *testing.F) {
	r, _ := New([]string{"10.0.0.0/8"})
	f.Add("10.0.0.1:1", "1.2.3.4, 10.0.0.2")
	f.Add("1.1.1.1:1", "x")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", xff)
		got := r.Resolve(req)
		peer := peerAddr(remote)
		// Oracle: an untrusted (or unparsable) peer is always the answer;
		// the header only matters behind a trusted proxy.
		if !peer.IsValid() || !r.isTrusted(peer) {
			if got != peer {
				t.Fatalf("untrusted peer %q resolved to %s", remote, got)
			}
		}
	})
}
