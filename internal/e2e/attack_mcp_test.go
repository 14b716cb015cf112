package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// requireForwarded is the control of the MCP attacks: a well-formed
// request with the token reaches the upstream, so "nothing forwarded"
// below means the attack was stopped, not that the route is broken.
func requireForwarded(t *testing.T, a *attackEnv, token string) {
	t.Helper()
	before := a.up.count()
	resp, body := a.mcp(t, http.MethodPost, testenv.FilesPath, initializeBody, bearer(token))
	if resp.StatusCode != http.StatusOK || a.up.count() != before+1 {
		t.Fatalf("control: initialize answered %d (%d upstream requests):\n%s", resp.StatusCode, a.up.count()-before, body)
	}
}

// TestAttackTokenInQuery: an access token in the URL (RFC 6750 §2.3),
// where it ends up in logs, histories and Referer headers, is refused at
// the MCP route even when it is valid, alone or beside a header (SPEC
// PX-2): 400 invalid_request, and nothing is forwarded. A token in a
// form body is no token at all (401).
func TestAttackTokenInQuery(t *testing.T) {
	a := newAttackEnv(t, testenv.Options{}, nil)
	tok := a.accessToken(t)
	requireForwarded(t, a, tok)
	for _, c := range []struct {
		name, method, query, body string
		header                    bool
	}{
		{"POST query only", http.MethodPost, "access_token=" + tok, initializeBody, false},
		{"POST query and header", http.MethodPost, "access_token=" + tok, initializeBody, true},
		{"GET query only", http.MethodGet, "access_token=" + tok, "", false},
		{"DELETE query only", http.MethodDelete, "access_token=" + tok, "", false},
		{"empty query value beside header", http.MethodPost, "access_token=", initializeBody, true},
		{"second parameter", http.MethodPost, "x=1&access_token=" + tok, initializeBody, true},
		{"percent-encoded name", http.MethodPost, "access%5Ftoken=" + tok, initializeBody, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := a.up.count()
			var edit func(*http.Request)
			if c.header {
				edit = bearer(tok)
			}
			resp, body := a.mcp(t, c.method, testenv.FilesPath+"?"+c.query, c.body, edit)
			// RFC 6750 §3.1: a request in a way the server does not accept
			// is invalid_request, 400.
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
				t.Fatalf("got %d %s, want 400 with a JSON-RPC error", resp.StatusCode, body)
			}
			if wa := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer ") || !strings.Contains(wa, `error="invalid_request"`) || !strings.Contains(wa, "resource_metadata=") {
				t.Errorf("WWW-Authenticate %q, want Bearer error=\"invalid_request\" with resource_metadata", wa)
			}
			a.requireNothingForwarded(t, before)
		})
	}
	t.Run("form body token", func(t *testing.T) {
		before := a.up.count()
		resp, _ := a.mcp(t, http.MethodPost, testenv.FilesPath, "access_token="+tok, func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("form-encoded token: %d, want 401", resp.StatusCode)
		}
		a.requireNothingForwarded(t, before)
	})
}

func nestedJSON(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// TestAttackOversizedJSON: bodies too large or nested too deeply are
// refused at the edge, before any decision or store write (SPEC HD-2,
// PX-4, PX-6): registration answers invalid_client_metadata and creates
// no client; the MCP route answers 413 or 400 with a JSON-RPC error and
// forwards nothing.
func TestAttackOversizedJSON(t *testing.T) {
	a := newAttackEnv(t, testenv.Options{}, nil)
	g := a.g
	register := func(t *testing.T, body string) testenv.Reply {
		t.Helper()
		return a.reply(t, g.Call("/oauth/register", "application/json", body, nil))
	}
	valid := `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","client_name":"x"%s}`
	for _, c := range []struct{ name, extra string }{
		{"oversized", `,"software_statement":"` + strings.Repeat("x", 1<<20) + `"`},
		{"nested 11 levels in an unknown member", `,"x":` + nestedJSON(11)},
		{"nested 10000 levels", `,"x":` + nestedJSON(10000)},
		{"nested arrays", `,"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000)},
		{"junk jwks", `,"jwks":{"keys":[{"kty":"EC","x":` + nestedJSON(5) + `}]}`},
		{"jwks not a set", `,"jwks":[1,2,3]`},
	} {
		t.Run("register/"+c.name, func(t *testing.T) {
			r := register(t, fmt.Sprintf(valid, c.extra))
			testenv.RequireOAuthError(t, r, http.StatusBadRequest, "invalid_client_metadata")
			if r.Get("client_id") != "" || strings.Contains(r.Raw, `"a":{"a"`) || strings.Contains(r.Raw, `"kty"`) {
				t.Fatalf("the registration was accepted or echoed: %.300s", r.Raw)
			}
		})
	}
	t.Run("register/control", func(t *testing.T) {
		r := register(t, fmt.Sprintf(valid, `,"x":`+nestedJSON(5)))
		if r.Status != http.StatusCreated || r.Get("client_id") == "" {
			t.Fatalf("a modestly nested unknown member is refused: %d %s", r.Status, r.Raw)
		}
	})
	tok := a.accessToken(t)
	requireForwarded(t, a, tok)
	call := func(args string) string {
		return `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":` + args + `}}`
	}
	for _, c := range []struct {
		name   string
		body   string
		status int
	}{
		{"oversized", call(`{"text":"` + strings.Repeat("x", 4<<20) + `"}`), http.StatusRequestEntityTooLarge},
		{"nested 65 levels", call(nestedJSON(65)), http.StatusBadRequest},
		{"nested 100000 levels", call(nestedJSON(100000)), http.StatusBadRequest},
		{"nested arrays in a batch", "[" + call(strings.Repeat("[", 200)+strings.Repeat("]", 200)) + "]", http.StatusBadRequest},
	} {
		t.Run("mcp/"+c.name, func(t *testing.T) {
			before := a.up.count()
			resp, body := a.mcp(t, http.MethodPost, testenv.FilesPath, c.body, bearer(tok))
			if resp.StatusCode != c.status || !strings.Contains(body, `"jsonrpc":"2.0"`) || !strings.Contains(body, `"error"`) {
				t.Fatalf("got %d %.300s, want %d with a JSON-RPC error", resp.StatusCode, body, c.status)
			}
			a.requireNothingForwarded(t, before)
		})
	}
}

// rawRequest writes req verbatim on a new connection to the gateway and
// returns the status line and headers of the answer, or the read error.
func rawRequest(t *testing.T, g *testenv.Gateway, req string) (*http.Response, error) {
	t.Helper()
	conn, err := net.Dial("tcp", g.HTTP.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// TestAttackHeaderInjection: CR/LF in values that reach response or
// upstream headers (state and error parameters in a Location, a
// redirect_uri, Mcp-Session-Id) never splits a header (SPEC HD-2).
func TestAttackHeaderInjection(t *testing.T) {
	a := newAttackEnv(t, testenv.Options{}, nil)
	g := a.g
	const evil = "s\r\nSet-Cookie: injected=1\r\nX-Injected: 1"
	requireNoSplit := func(t *testing.T, h http.Header) {
		t.Helper()
		if h.Get("X-Injected") != "" {
			t.Fatal("an injected header reached the response")
		}
		for _, c := range h.Values("Set-Cookie") {
			if strings.Contains(c, "injected") {
				t.Fatalf("an injected cookie was set: %q", c)
			}
		}
		for name, vals := range h {
			for _, v := range vals {
				if strings.ContainsAny(v, "\r\n") {
					t.Fatalf("header %s carries CR/LF: %q", name, v)
				}
			}
		}
	}
	t.Run("state on success redirect", func(t *testing.T) {
		b := g.NewBrowser()
		q := publicParams(g)
		q.Set("state", evil)
		id := b.StartFlow(q)
		b.SubmitConsent(id, "approve")
		resp := a.page(t, b.SubmitLogin(id, testenv.Alice, testenv.Password))
		requireNoSplit(t, resp.Header)
		got := testenv.ClientRedirect(t, resp, http.StatusSeeOther, loopbackCB)
		if got.Get("state") != evil || got.Get("code") == "" {
			t.Fatalf("state not echoed intact (percent-encoded) with the code: %v", got)
		}
	})
	t.Run("state on error redirect", func(t *testing.T) {
		q := publicParams(g)
		q.Set("state", evil)
		q.Set("code_challenge_method", "plain")
		resp := a.page(t, g.NewBrowser().Get("/oauth/authorize?"+q.Encode()))
		requireNoSplit(t, resp.Header)
		if got := testenv.ClientRedirect(t, resp, http.StatusFound, loopbackCB); got.Get("state") != evil {
			t.Fatalf("state %q, want it echoed intact", got.Get("state"))
		}
	})
	for _, p := range []string{"redirect_uri", "client_id", "resource", "scope", "response_type", "prompt"} {
		t.Run("CRLF in "+p, func(t *testing.T) {
			q := publicParams(g)
			q.Set(p, q.Get(p)+"\r\nX-Injected: 1")
			resp := a.page(t, g.NewBrowser().Get("/oauth/authorize?"+q.Encode()))
			requireNoSplit(t, resp.Header)
			requireNoCode(t, resp)
			if resp.StatusCode < 300 || resp.StatusCode >= 500 {
				t.Fatalf("got %d, want a refusal (error page or error redirect)", resp.StatusCode)
			}
		})
	}
	tok := a.accessToken(t)
	requireForwarded(t, a, tok)
	for _, v := range []string{"abc\rX-Injected: 1", "abc\nX-Injected: 1", "abc\x00def"} {
		t.Run(fmt.Sprintf("raw Mcp-Session-Id %q", v), func(t *testing.T) {
			before := a.up.count()
			req := "POST " + testenv.FilesPath + " HTTP/1.1\r\nHost: " + strings.TrimPrefix(g.URL, "http://") +
				"\r\nAuthorization: Bearer " + tok + "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n" +
				"Mcp-Session-Id: " + v + "\r\nContent-Length: " + fmt.Sprint(len(initializeBody)) + "\r\nConnection: close\r\n\r\n" + initializeBody
			resp, err := rawRequest(t, g, req)
			if err == nil && resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
				t.Fatalf("got %d, want 400 or 404", resp.StatusCode)
			}
			if err == nil {
				requireNoSplit(t, resp.Header)
			}
			a.requireNothingForwarded(t, before)
		})
	}
	for _, v := range []string{"abc%0d%0aX-Injected:%201", url.QueryEscape(evil), strings.Repeat("A", 8000)} {
		t.Run("forged Mcp-Session-Id "+v[:min(len(v), 20)], func(t *testing.T) {
			before := a.up.count()
			resp, body := a.mcp(t, http.MethodPost, testenv.FilesPath, initializeBody, func(r *http.Request) {
				bearer(tok)(r)
				r.Header.Set("Mcp-Session-Id", v)
			})
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 404 (unknown session) or 400", resp.StatusCode, body)
			}
			requireNoSplit(t, resp.Header)
			a.requireNothingForwarded(t, before)
		})
	}
}

// TestAttackSlowloris: a client that sends its headers slowly, a line
// at a time, is cut off once server.read_header_timeout has passed since
// the request began, however steadily it trickles (SPEC HD-2); a client
// that sends them at once is served. The timeout is set short here, and
// the test waits for nothing but the server's own deadline.
func TestAttackSlowloris(t *testing.T) {
	const timeout = 300 * time.Millisecond
	a := newAttackEnv(t, testenv.Options{}, func(c *config.Config) {
		c.Server.ReadHeaderTimeout = config.Duration(timeout)
	})
	g := a.g
	host := g.HTTP.Listener.Addr().String()
	t.Run("control", func(t *testing.T) {
		resp, err := rawRequest(t, g, "GET /healthz HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("a prompt request: %v %v", resp, err)
		}
	})
	t.Run("trickled headers cut off", func(t *testing.T) {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+host+"\r\n"); err != nil {
			t.Fatal(err)
		}
		// The attacker: one header line every timeout/6, forever. Each
		// write is the attack's own pacing, not a wait of the test.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(timeout / 6)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := fmt.Fprintf(conn, "X-Slow-%d: x\r\n", i); err != nil {
					return
				}
			}
		}()
		limit := timeout + 5*time.Second
		conn.SetReadDeadline(start.Add(limit))
		got, err := io.ReadAll(conn)
		elapsed := time.Since(start)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the connection was still open after %v: no header timeout", limit)
		}
		if strings.HasPrefix(string(got), "HTTP/1.1 200") {
			t.Fatalf("the trickled request was served: %q", got)
		}
		if elapsed < timeout/2 { // the server's clock starts at accept, a little before ours
			t.Fatalf("cut after %v, before the %v timeout: some other limit fired", elapsed, timeout)
		}
		t.Logf("trickling client cut off after %v (read_header_timeout %v), answer %q", elapsed.Round(time.Millisecond), timeout, got)
	})
}
