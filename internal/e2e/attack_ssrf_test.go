package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/testenv"
)

// fakeDNS answers the CIMD fetcher's lookups from a table; a name with
// several answers gives them in turn (the last one repeats), which is a
// DNS-rebinding server: public when checked, private when used.
type fakeDNS struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	lookups map[string]int
}

func (d *fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	seq, ok := d.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := min(d.lookups[host], len(seq)-1)
	d.lookups[host]++
	return seq[i], nil
}

func (d *fakeDNS) count(host string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lookups[host]
}

// dialLog records every address the fetcher dials. Only the trusted
// document server is really dialled; any other address fails at once, as
// an unreachable network would, without leaving the machine.
type dialLog struct {
	trusted string
	mu      sync.Mutex
	addrs   []string
}

func (l *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	l.mu.Lock()
	l.addrs = append(l.addrs, addr)
	l.mu.Unlock()
	if addr == l.trusted {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return nil, errors.New("network unreachable (test dialler)")
}

func (l *dialLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.addrs...)
}

// TestAttackSSRFThroughCIMD: a client_id URL is fetched by the gateway,
// so an attacker chooses where the gateway connects (SPEC AS-7). Private,
// loopback, link-local and IPv6-mapped addresses, as literals or behind a
// name, are refused before any connection; a name whose DNS answer
// changes between check and use is dialled only at the checked address
// (the check holds at dial time); a redirect to a private host is not
// followed. Each refusal is the unknown-client error page, never a
// redirect, and saying nothing about why (no network probe).
func TestAttackSSRFThroughCIMD(t *testing.T) {
	srv := testenv.NewCIMDServer(t)
	const okPath = "/clients/ok.json"
	srv.Serve(okPath, srv.Document(okPath, "Fine App", "http://127.0.0.1/cb"), "")
	public := netip.MustParseAddr("1.1.1.1")
	addrs := func(s ...string) [][]netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return [][]netip.Addr{out}
	}
	dns := &fakeDNS{lookups: map[string]int{}, answers: map[string][][]netip.Addr{
		"ten.attack.test":      addrs("10.1.2.3"),
		"lan.attack.test":      addrs("192.168.1.1"),
		"lo.attack.test":       addrs("127.0.0.1"),
		"lo2.attack.test":      addrs("127.5.6.7"),
		"lo6.attack.test":      addrs("::1"),
		"metadata.attack.test": addrs("169.254.169.254"),
		"mapped.attack.test":   addrs("::ffff:127.0.0.1"),
		"mapped10.attack.test": addrs("::ffff:10.0.0.1"),
		"ula.attack.test":      addrs("fd00::1"),
		"cgnat.attack.test":    addrs("100.64.0.1"),
		"zero.attack.test":     addrs("0.0.0.0"),
		"nat64.attack.test":    addrs("64:ff9b::a00:1"),
		"mixed.attack.test":    addrs("1.1.1.1", "10.0.0.1"),
		"2130706433":           addrs("127.0.0.1"), // what a system resolver makes of a decimal IP
		"0x7f.1":               addrs("127.0.0.1"),
		"rebind.attack.test":   {{public}, {netip.MustParseAddr("127.0.0.1")}},
		"rebind6.attack.test":  {{public}, {netip.MustParseAddr("::1")}},
	}}
	dials := &dialLog{trusted: srv.Host}
	a := newAttackEnv(t, testenv.Options{CIMDResolver: dns, CIMDDial: dials.dial}, srv.Trust())
	g := a.g
	refused := func(t *testing.T, clientID string) {
		t.Helper()
		q := g.AuthParams(clientID, "http://127.0.0.1/cb", g.Resource(testenv.FilesPath), testenv.NewPKCE())
		resp := a.page(t, g.NewBrowser().Get("/oauth/authorize?"+q.Encode()))
		testenv.RequireErrorPage(t, resp, http.StatusBadRequest)
		for _, probe := range []string{"non-public", "private", "loopback", "resolv", "10.1.2.3", "169.254"} {
			if strings.Contains(strings.ToLower(resp.Body), probe) {
				t.Errorf("the error page tells the attacker why (%q):\n%s", probe, resp.Body)
			}
		}
	}
	t.Run("control: the trusted document server is reachable", func(t *testing.T) {
		q := g.AuthParams(srv.ClientID(okPath), "http://127.0.0.1/cb", g.Resource(testenv.FilesPath), testenv.NewPKCE())
		g.NewBrowser().StartFlow(q)
		if d := dials.all(); len(d) != 1 || d[0] != srv.Host {
			t.Fatalf("dials %q, want one to %s", d, srv.Host)
		}
	})
	conns := srv.Conns()
	before := len(dials.all())
	_, port, _ := strings.Cut(srv.Host, ":")
	for _, id := range []string{
		"https://10.1.2.3/c.json",
		"https://10.0.0.1:" + port + "/c.json",
		"https://192.168.0.1/c.json",
		"https://172.16.0.1/c.json",
		"https://127.0.0.1/c.json",
		"https://127.0.0.2:" + port + "/c.json",
		"https://localhost:" + port + "/c.json",
		"https://[::1]:" + port + "/c.json",
		"https://169.254.169.254/latest/meta-data/iam.json",
		"https://[::ffff:127.0.0.1]:" + port + "/c.json",
		"https://[::ffff:a9fe:a9fe]/c.json",
		"https://[fe80::1]/c.json",
		"https://0.0.0.0:" + port + "/c.json",
		"https://ten.attack.test/c.json",
		"https://lan.attack.test/c.json",
		"https://lo.attack.test:" + port + "/c.json",
		"https://lo2.attack.test/c.json",
		"https://lo6.attack.test/c.json",
		"https://metadata.attack.test/latest/meta-data.json",
		"https://mapped.attack.test:" + port + "/c.json",
		"https://mapped10.attack.test/c.json",
		"https://ula.attack.test/c.json",
		"https://cgnat.attack.test/c.json",
		"https://zero.attack.test/c.json",
		"https://nat64.attack.test/c.json",
		"https://mixed.attack.test/c.json",
		"https://2130706433:" + port + "/c.json",
		"https://0x7f.1:" + port + "/c.json",
		"http://" + srv.Host + okPath,
		"https://user@" + srv.Host + okPath,
		srv.ClientID(okPath) + "#frag",
	} {
		t.Run("private/"+id, func(t *testing.T) { refused(t, id) })
	}
	t.Run("no connection was made", func(t *testing.T) {
		if d := dials.all()[before:]; len(d) != 0 {
			t.Errorf("refused client IDs were dialled: %q", d)
		}
		if srv.Conns() != conns {
			t.Errorf("the document server got %d connections from refused client IDs", srv.Conns()-conns)
		}
	})
	for _, host := range []string{"rebind.attack.test", "rebind6.attack.test"} {
		t.Run("DNS rebinding/"+host, func(t *testing.T) {
			before := len(dials.all())
			refused(t, "https://"+host+":"+port+"/c.json")
			d := dials.all()[before:]
			if len(d) != 1 || d[0] != "1.1.1.1:"+port {
				t.Fatalf("dials %q, want exactly the checked address 1.1.1.1:%s", d, port)
			}
			if n := dns.count(host); n != 1 {
				t.Fatalf("%s looked up %d times: a second lookup at dial time can be answered with a private address", host, n)
			}
			if srv.Conns() != conns {
				t.Fatal("the rebinding name reached the loopback document server")
			}
		})
	}
	for name, target := range map[string]string{
		"loopback":         "https://127.0.0.1:" + port + okPath,
		"private":          "https://10.0.0.1/c.json",
		"metadata service": "http://169.254.169.254/latest/meta-data/",
		"same server":      srv.ClientID(okPath),
	} {
		t.Run("redirect to "+name, func(t *testing.T) {
			path := "/clients/redirect-" + strings.ReplaceAll(name, " ", "-") + ".json"
			srv.Redirect(path, target)
			before := len(dials.all())
			hits := srv.Hits(okPath)
			refused(t, srv.ClientID(path))
			if srv.Hits(path) != 1 {
				t.Fatalf("the redirecting URL was fetched %d times, want 1", srv.Hits(path))
			}
			for _, d := range dials.all()[before:] {
				if d != srv.Host {
					t.Fatalf("the redirect was followed to %s", d)
				}
			}
			if srv.Hits(okPath) != hits {
				t.Fatal("the redirect was followed on the same server")
			}
		})
	}
	t.Run("no client stored", func(t *testing.T) {
		for _, id := range []string{"https://ten.attack.test/c.json", "https://rebind.attack.test:" + port + "/c.json"} {
			if _, err := g.Store().GetClient(context.Background(), id); err == nil {
				t.Errorf("refused client %s is in the store", id)
			}
		}
	})
}
