package server_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// deadlineGateway is a gateway with server.write_timeout d whose files
// upstream is h, and an access token of alice for it.
func deadlineGateway(t *testing.T, d time.Duration, h http.HandlerFunc) (*testenv.Gateway, string) {
	t.Helper()
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	g := testenv.New(t, testenv.Options{Driver: "memory", Mutate: func(c *config.Config) {
		c.Upstreams[0].URL = up.URL
		c.Server.WriteTimeout = config.Duration(d)
	}})
	_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, testenv.Alice)
	return g, rep.Get("access_token")
}

func openStream(t *testing.T, g *testenv.Gateway, token string) *http.Response {
	t.Helper()
	resp := do(t, g, newRequest(t, g, http.MethodGet, testenv.FilesPath, "",
		map[string]string{"Authorization": "Bearer " + token, "Accept": "text/event-stream"}))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp
}

// TestStreamOutlivesWriteTimeout: server.write_timeout does not cut an
// SSE stream that stays quiet for longer than it: the next event still
// reaches the client, and the stream ends cleanly. (The quiet spell is
// the scenario itself, a real stretch of time, since the deadline is the
// kernel's; the test waits for nothing with it.)
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	const writeTimeout = time.Second
	g, tok := deadlineGateway(t, writeTimeout, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-time.After(2*writeTimeout + writeTimeout/2):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: two\n\n")
	})
	body, err := io.ReadAll(openStream(t, g, tok).Body)
	if err != nil || string(body) != "data: one\n\ndata: two\n\n" {
		t.Fatalf("stream body %q, err %v; want both events and a clean end", body, err)
	}
}

// TestStreamToStalledReaderIsCut: a client that opens a stream and stops
// reading is cut off once a write has been blocked for write_timeout, so
// it cannot hold the gateway's goroutine and upstream connection forever;
// the upstream sees its request end.
func TestStreamToStalledReaderIsCut(t *testing.T) {
	ended := make(chan struct{})
	chunk := "data: " + strings.Repeat("x", 64<<10) + "\n\n"
	g, tok := deadlineGateway(t, time.Second, func(w http.ResponseWriter, r *http.Request) {
		defer close(ended)
		w.Header().Set("Content-Type", "text/event-stream")
		bw := bufio.NewWriter(w)
		for r.Context().Err() == nil {
			if _, err := bw.WriteString(chunk); err != nil {
				return
			}
			bw.Flush()
			http.NewResponseController(w).Flush()
		}
	})
	resp := openStream(t, g, tok) // its body is never read
	select {
	case <-ended:
	case <-time.After(failAfter / 2): // before do's own bound closes the connection
		t.Fatal("the stream to a client that stopped reading was not cut")
	}
	resp.Body.Close()
}
