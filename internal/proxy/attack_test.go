package proxy_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// An Upgrade is refused: an upstream answering 101 would give the client a
// raw tunnel past every per-request check.
func TestAttackUpgradeTunnelRefused(t *testing.T) {
	var mu sync.Mutex
	var tunneled []byte
	got := make(chan struct{})
	up := newRecorderFunc(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Header.Get("Upgrade") == "" {
			w.WriteHeader(200)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + r.Header.Get("Upgrade") + "\r\n\r\n")
		brw.Flush()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, _ := brw.Read(buf)
		mu.Lock()
		tunneled = append(tunneled, buf[:n]...)
		mu.Unlock()
		close(got)
	})
	g := policyGateway(t, up.URL)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	u, _ := url.Parse(g.HTTP.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET "+testenv.FilesPath+" HTTP/1.1\r\nHost: "+u.Host+"\r\nAuthorization: Bearer "+alice+
		"\r\nAccept: text/event-stream\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("gateway answered %d to an Upgrade, want 400", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return
	}
	smuggled := "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 80\r\n\r\n" +
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_all"}}  `
	io.WriteString(conn, smuggled)
	select {
	case <-got:
	case <-time.After(5 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(string(tunneled), "delete_all") {
		t.Fatalf("upgrade tunnel: a denied tools/call reached the upstream unchecked:\n%s", tunneled)
	}
}

// A notification naming tools/call goes through the rules like a request.
func TestAttackToolCallAsNotificationRuled(t *testing.T) {
	up := newRecorder(t)
	g := policyGateway(t, up.URL)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	before := up.count()
	r := post(t, g, testenv.FilesPath, alice, `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_all","arguments":{}}}`, nil)
	if up.count() > before {
		t.Fatalf("denied tool as a notification forwarded: %d %s; upstream got %s", r.Status, r.Body, up.last(t).Body)
	}
}

// A GET stream ends once its token is revoked (SPEC AS-5a): it can
// outlive the check at its start by hours.
func TestAttackStreamEndsOnRevocation(t *testing.T) {
	tick := make(chan struct{})
	upstreamDone := make(chan struct{})
	up := newRecorderFunc(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Method != http.MethodGet {
			w.WriteHeader(202)
			return
		}
		defer close(upstreamDone)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		for i := 0; ; i++ {
			select {
			case <-r.Context().Done():
				return
			case <-tick:
			}
			io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"secret-after-revocation\"}}\n\n")
			w.(http.Flusher).Flush()
		}
	})
	g := gateway(t, up.URL, nil)
	f := g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(testenv.PublicClient, g.URL+testenv.FilesPath), testenv.Alice, nil)
	tr := g.Exchange(f, nil)
	tok := tr.Get("access_token")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.HTTP.URL+testenv.FilesPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %d", resp.StatusCode)
	}
	// Kill the grant: revoke the refresh token (family) and the access token.
	g.Revoke(tr.Get("refresh_token"), testenv.PublicClient, "")
	g.Revoke(tok, testenv.PublicClient, "")
	if _, err := g.WaitRevoked(tok, g.URL+testenv.FilesPath, 6*time.Second); err != nil {
		t.Fatal(err)
	}
	if r := call(t, g, http.MethodGet, testenv.FilesPath, tok, "", nil); r.Status != 401 {
		t.Fatalf("new request with revoked token: %d", r.Status)
	}
	// Within one re-check interval (5 s) the gateway ends the stream: the
	// upstream's request is cancelled and the client reads EOF.
	select {
	case <-upstreamDone:
	case <-time.After(15 * time.Second):
		t.Fatal("the revoked token's GET stream is still open upstream after 15 s")
	}
	close(tick)
	rest, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(rest), "secret-after-revocation") {
		t.Fatalf("revoked token's GET stream delivered after revocation: %q", rest)
	}
}

// One user cannot take every stdio process slot.
func TestAttackStdioSlotsPerUser(t *testing.T) {
	g := gateway(t, "http://unused", func(c *config.Config) {
		c.Upstreams[0].URL = ""
		c.Upstreams[0].Command = []string{"sh", "-c", `while read l; do echo '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"x","version":"1"}}}'; done`}
		c.Upstreams[0].MaxProcesses = 4
		c.Upstreams[0].MaxProcessesPerUser = 2
	})
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	bob := accessToken(t, g, testenv.Bob, testenv.FilesPath, "")
	for i := 0; i < 3; i++ {
		r := post(t, g, testenv.FilesPath, alice, initializeBody, nil)
		if want := map[bool]int{true: 200, false: 503}[i < 2]; r.Status != want {
			t.Fatalf("alice init %d: %d %s, want %d", i, r.Status, r.Body, want)
		}
	}
	r := post(t, g, testenv.FilesPath, bob, initializeBody, nil)
	if r.Status != 200 {
		t.Fatalf("bob is locked out by alice's abandoned sessions: %d %s", r.Status, r.Body)
	}
}

// A GET or DELETE body, never inspected, is never forwarded (PX-6).
func TestAttackGetBodyNotForwarded(t *testing.T) {
	up := newRecorder(t)
	g := policyGateway(t, up.URL)
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	call(t, g, http.MethodDelete, testenv.FilesPath, alice, toolCall(9, "delete_all", `{}`), nil)
	if b := up.last(t).Body; len(b) > 0 {
		t.Fatalf("DELETE body reached the upstream uninspected: %s", b)
	}
}

// resources/read rules match the canonical URI: dot segments, encodings and
// case variants reach the same file on any upstream that resolves paths.
func TestAttackResourceURIVariants(t *testing.T) {
	up := newRecorder(t)
	g := gateway(t, up.URL, func(c *config.Config) {
		c.Upstreams[0].Tools = []config.ToolRule{{Match: "file:///srv/secret/*", Deny: true}}
	})
	alice := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	for i, uri := range []string{"file:///srv/public/../secret/key", "file:///srv/%73ecret/key", "file:///srv//secret/key", "FILE:///srv/secret/key"} {
		before := up.count()
		r := post(t, g, testenv.FilesPath, alice, `{"jsonrpc":"2.0","id":`+string(rune('1'+i))+`,"method":"resources/read","params":{"uri":"`+uri+`"}}`, nil)
		if up.count() > before {
			t.Errorf("denied resource reached as %s: %d", uri, r.Status)
		}
	}
}

// Request trailers (here carrying the client's token) never reach the
// upstream.
func TestAttackTrailersNeverForwarded(t *testing.T) {
	var mu sync.Mutex
	var trailer http.Header
	up := newRecorderFunc(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		trailer = r.Trailer.Clone()
		mu.Unlock()
		w.WriteHeader(202)
	})
	g := gateway(t, up.URL, nil)
	tok := accessToken(t, g, testenv.Alice, testenv.FilesPath, "")
	u, _ := url.Parse(g.HTTP.URL)
	for _, m := range []string{"POST", "GET"} {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		body := initializedBody
		io.WriteString(conn, m+" "+testenv.FilesPath+" HTTP/1.1\r\nHost: "+u.Host+"\r\nAuthorization: Bearer "+tok+
			"\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTrailer: Authorization, Cookie\r\nTransfer-Encoding: chunked\r\n\r\n"+
			strconvHex(len(body))+"\r\n"+body+"\r\n0\r\nAuthorization: Bearer "+tok+"\r\nCookie: a=b\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		if resp.StatusCode/100 != 2 {
			t.Errorf("%s: status %d, want the request forwarded (without its trailers)", m, resp.StatusCode)
		}
		mu.Lock()
		if len(trailer) != 0 {
			t.Errorf("%s: trailers %v reached the upstream (the client's token among them)", m, trailer)
		}
		mu.Unlock()
	}
}

func strconvHex(n int) string { return strconv.FormatInt(int64(n), 16) }
