package proxy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/server"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// sseFailAfter bounds every wait in these tests. It is never what a test
// waits for: each wait ends on a channel or a read, and only a broken
// gateway lets this fire.
const sseFailAfter = 10 * time.Second

const (
	sseCallBody = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
	sseListBody = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	// sseProgressEvent is a notification event with an id, as an upstream
	// sends while a call runs.
	sseProgressEvent = "id: ev-1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n"
	sseResultEvent   = "id: ev-2\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}\n\n"
)

// sseGateway starts h as the files upstream behind a test gateway and
// returns the gateway and an access token of user for it.
func sseGateway(t *testing.T, h http.Handler, user string, mutate func(*config.Config)) (*testenv.Gateway, string) {
	t.Helper()
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		c.Upstreams[0].URL = up.URL
		if mutate != nil {
			mutate(c)
		}
	}})
	return g, sseToken(g, user)
}

func sseToken(g *testenv.Gateway, user string) string {
	_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, user)
	return rep.Get("access_token")
}

// sseSend sends an MCP request to the files route as a Streamable HTTP
// client does: POST with body, or GET (body "") opening a stream. The
// response body is closed when the test ends.
func sseSend(t *testing.T, ctx context.Context, g *testenv.Gateway, tok, method, body string, edit func(*http.Request)) *http.Response {
	t.Helper()
	// Bound the whole exchange, headers included: a gateway that buffers
	// the stream would otherwise hold the test in Do forever.
	ctx, cancel := context.WithTimeout(ctx, sseFailAfter)
	t.Cleanup(cancel)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.URL+testenv.FilesPath, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json, text/event-stream")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if edit != nil {
		edit(req)
	}
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: status %d: %s", method, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("%s: Content-Type %q", method, ct)
	}
	return resp
}

// sseStream reads raw events (every line through the blank line) from
// a response body in the background, so a test can wait for one with a
// failure bound.
type sseStream struct {
	t      *testing.T
	events chan string
	err    error // set before events is closed
}

func readSSE(t *testing.T, body io.Reader) *sseStream {
	s := &sseStream{t: t, events: make(chan string)}
	go func() {
		defer close(s.events)
		br := bufio.NewReader(body)
		var ev strings.Builder
		for {
			line, err := br.ReadString('\n')
			ev.WriteString(line)
			if err != nil {
				if ev.Len() > 0 {
					s.events <- ev.String()
				}
				s.err = err
				return
			}
			if line == "\n" || line == "\r\n" {
				s.events <- ev.String()
				ev.Reset()
			}
		}
	}()
	return s
}

// next returns the next event, failing if none comes.
func (s *sseStream) next() string {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatalf("stream ended (%v), want another event", s.err)
		}
		return ev
	case <-time.After(sseFailAfter):
		s.t.Fatal("no event reached the client")
	}
	return ""
}

// end fails unless the stream ends cleanly with no further event.
func (s *sseStream) end() {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if ok {
			s.t.Fatalf("unexpected event %q", ev)
		}
		if s.err != io.EOF {
			s.t.Fatalf("stream ended with %v", s.err)
		}
	case <-time.After(sseFailAfter):
		s.t.Fatal("stream did not end")
	}
}

// sseStreamingUpstream answers every request with an event stream: first,
// a flush, then it blocks until release (or the request ends) and sends
// second.
func sseStreamingUpstream(first, second string, release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, first)
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, second)
	}
}

// TestSSEEventsReachClientWhileUpstreamStreams: each event is relayed as
// the upstream flushes it, while the upstream is still streaming (SPEC
// PX-4: unbuffered, flush per event), on POST, GET and through the list
// filter.
func TestSSEEventsReachClientWhileUpstreamStreams(t *testing.T) {
	listEvent := "id: ev-2\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"echo\"}]}}\n\n"
	for _, c := range []struct {
		name, method, body, second string
	}{
		{"POST", http.MethodPost, sseCallBody, sseResultEvent},
		{"GET", http.MethodGet, "", sseProgressEvent},
		{"POST tools/list filtered", http.MethodPost, sseListBody, listEvent},
	} {
		t.Run(c.name, func(t *testing.T) {
			release := make(chan struct{})
			g, tok := sseGateway(t, sseStreamingUpstream(sseProgressEvent, c.second, release), testenv.Alice, func(cfg *config.Config) {
				cfg.Upstreams[0].Tools = []config.ToolRule{{Match: "secret_*", Groups: []string{"admins"}}}
			})
			releaseOnce := sync.OnceFunc(func() { close(release) })
			t.Cleanup(releaseOnce) // a failed wait must not leave the upstream blocked
			events := readSSE(t, sseSend(t, t.Context(), g, tok, c.method, c.body, nil).Body)
			if ev := events.next(); ev != sseProgressEvent {
				t.Fatalf("first event %q, want %q", ev, sseProgressEvent)
			}
			releaseOnce()
			ev := events.next()
			if c.body == sseListBody {
				// A list answer is re-encoded by the filter: compare what it lists.
				if !strings.HasPrefix(ev, "id: ev-2\ndata: ") || !strings.Contains(ev, `"tools":[{"name":"echo"}]`) {
					t.Fatalf("list event %q", ev)
				}
			} else if ev != c.second {
				t.Fatalf("second event %q, want %q", ev, c.second)
			}
			events.end()
		})
	}
}

// TestSSEResumptionFieldsUntouched: Last-Event-ID reaches the upstream as
// the client sent it, and id:, retry:, event: and comment lines reach the
// client byte for byte, CRLF included (SPEC PX-4). The upstream is never
// asked for a compressed stream, which could not be relayed per event.
func TestSSEResumptionFieldsUntouched(t *testing.T) {
	const stream = "retry: 2500\nid: stream-7:42\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"x\"}}\n\n" +
		": keep-alive\n\n" +
		"id: stream-7:43\r\nretry:0\r\ndata:{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"t\",\"progress\":2}}\r\n\r\n" +
		"id:\n\n"
	type seen struct{ lastEventID, acceptEncoding []string }
	got := make(chan seen, 1)
	g, tok := sseGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Values("Last-Event-Id"), r.Header.Values("Accept-Encoding")}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, stream)
	}), testenv.Alice, nil)

	const lastID = "stream-7:41 ; opaque/=="
	resp := sseSend(t, t.Context(), g, tok, http.MethodGet, "", func(r *http.Request) {
		r.Header.Set("Last-Event-ID", lastID)
	})
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != stream {
		t.Errorf("stream changed:\n got %q\nwant %q", body, stream)
	}
	if h := resp.Header.Get("Content-Encoding"); h != "" {
		t.Errorf("Content-Encoding %q", h)
	}
	s := <-got
	if !slices.Equal(s.lastEventID, []string{lastID}) {
		t.Errorf("upstream saw Last-Event-ID %q, want [%q]", s.lastEventID, lastID)
	}
	if len(s.acceptEncoding) != 0 {
		t.Errorf("upstream was offered compression: %q", s.acceptEncoding)
	}
}

// TestSSEClientDisconnectCancelsUpstream: when the client goes away, the
// upstream request's context ends (SPEC PX-4), so an upstream never keeps
// working, or holding a stream open, for nobody. Both ways a client
// leaves: cancelling its request, or closing the response body.
func TestSSEClientDisconnectCancelsUpstream(t *testing.T) {
	for _, c := range []struct {
		name, method, body string
		leave              func(cancel context.CancelFunc, resp *http.Response)
	}{
		{"GET, request cancelled", http.MethodGet, "", func(cancel context.CancelFunc, _ *http.Response) { cancel() }},
		{"POST, body closed", http.MethodPost, sseCallBody, func(_ context.CancelFunc, resp *http.Response) { resp.Body.Close() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cancelled, stop := make(chan struct{}), make(chan struct{})
			g, tok := sseGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, sseProgressEvent)
				http.NewResponseController(w).Flush()
				select {
				case <-r.Context().Done():
					close(cancelled)
				case <-stop:
				}
			}), testenv.Alice, nil)
			// Runs before the servers close (cleanups run last first), so a
			// gateway that never cancels fails this test instead of hanging
			// it.
			t.Cleanup(func() { close(stop) })
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			resp := sseSend(t, ctx, g, tok, c.method, c.body, nil)
			if ev := readSSE(t, resp.Body).next(); ev != sseProgressEvent {
				t.Fatalf("first event %q", ev)
			}
			c.leave(cancel, resp)
			select {
			case <-cancelled:
			case <-time.After(sseFailAfter):
				t.Fatal("the upstream request was not cancelled when the client left")
			}
		})
	}
}

// sseTimeoutGateway is testenv.New with the configured server timeouts
// applied, as server.Serve applies them (testenv's httptest server leaves
// them unset, so a ReadTimeout set in Mutate would test nothing).
func sseTimeoutGateway(t *testing.T, mutate func(*config.Config)) *testenv.Gateway {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg := testenv.Config(t, "http://"+ts.Listener.Addr().String(), testenv.Options{Mutate: mutate})
	cfg.Audit.Stdout = true
	logs, aud := &testenv.Buffer{}, &testenv.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(ctx, cfg, server.Options{Version: "test", LogOutput: logs, AuditStdout: aud})
	if err != nil {
		cancel()
		ts.Listener.Close()
		t.Fatalf("server.New: %v", err)
	}
	ts.Config.Handler = s.Handler()
	ts.Config.ReadHeaderTimeout = time.Duration(cfg.Server.ReadHeaderTimeout)
	ts.Config.ReadTimeout = time.Duration(cfg.Server.ReadTimeout)
	ts.Config.IdleTimeout = time.Duration(cfg.Server.IdleTimeout)
	ts.Start()
	done := make(chan struct{})
	go func() { defer close(done); s.RunBackground(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		ts.Close()
		s.Close()
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	return &testenv.Gateway{T: t, URL: cfg.PublicURL, Server: s, HTTP: ts, Config: cfg, Logs: logs, Audit: aud}
}

// TestSSEStreamOutlivesReadTimeout: server.read_timeout bounds reading a
// request, not the life of its response: an SSE stream still open after
// it delivers later events (net/http's background read would otherwise
// hit the expired deadline and cancel the request).
func TestSSEStreamOutlivesReadTimeout(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, sseProgressEvent)
		http.NewResponseController(w).Flush()
		// The delay past the read timeout is the thing under test.
		select {
		case <-time.After(2 * readTimeout):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, sseResultEvent)
	}))
	t.Cleanup(up.Close)
	g := sseTimeoutGateway(t, func(c *config.Config) {
		c.Upstreams[0].URL = up.URL
		c.Server.ReadTimeout = config.Duration(readTimeout)
	})
	tok := sseToken(g, testenv.Alice)

	t.Run("timeout is live", func(t *testing.T) {
		// A body still arriving after read_timeout is cut off: proof that
		// this server enforces the timeout the streams below outlive.
		pr, pw := io.Pipe()
		defer pw.Close()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, g.URL+testenv.FilesPath, pr)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		go pw.Write([]byte(`{"jsonrpc":"2.0",`))
		resp, err := g.Client().Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("a body slower than read_timeout was accepted")
			}
		}
	})
	for _, c := range []struct{ method, body string }{{http.MethodGet, ""}, {http.MethodPost, sseCallBody}} {
		t.Run(c.method, func(t *testing.T) {
			t.Parallel()
			events := readSSE(t, sseSend(t, t.Context(), g, tok, c.method, c.body, nil).Body)
			if ev := events.next(); ev != sseProgressEvent {
				t.Fatalf("first event %q", ev)
			}
			if ev := events.next(); ev != sseResultEvent {
				t.Fatalf("event after read_timeout %q, want %q", ev, sseResultEvent)
			}
			events.end()
		})
	}
}

// sseListUpstream answers tools/list with an event stream: a notification
// naming a hidden tool (it must pass untouched: it is not a list), then
// the list answer, whose data is cut into lines by split. The stream is
// chunked, flushed after the notification as an MCP server does, unless
// withLength: then it is sent whole with its Content-Length, as a Go
// handler that writes a short answer without flushing sends it.
func sseListUpstream(tools []string, split func(data string) []string, withLength bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		var items []map[string]any
		for _, name := range tools {
			items = append(items, map[string]any{"name": name, "description": "tool " + name, "inputSchema": map[string]any{"type": "object"}})
		}
		data, _ := json.MarshalIndent(map[string]any{"jsonrpc": "2.0", "id": 1, "result": map[string]any{"tools": items}}, "", " ")
		var answer strings.Builder
		answer.WriteString("id: ev-2\nretry: 3000\nevent: message\n")
		for _, l := range split(string(data)) {
			fmt.Fprintf(&answer, "data: %s\n", l)
		}
		answer.WriteString("\n")
		w.Header().Set("Content-Type", "text/event-stream")
		if withLength {
			w.Header().Set("Content-Length", fmt.Sprint(len(sseListNotice)+answer.Len()))
		}
		io.WriteString(w, sseListNotice)
		if !withLength {
			http.NewResponseController(w).Flush()
		}
		io.WriteString(w, answer.String())
	}
}

const sseListNotice = "id: ev-1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"listing secret_ops\"}}\n\n"

// TestSSEListFiltering: a tools/list answer inside an event stream is
// filtered per the tool rules (SPEC PX-7), its event's id:, retry: and
// event: lines kept, the notification before it passed byte for byte,
// and no event boundary moved; whether the upstream writes the answer on
// one data: line, over several, or on one line longer than any read
// buffer, and whether it declared the length of the stream it sent (the
// filtered stream has another length).
func TestSSEListFiltering(t *testing.T) {
	oneLine := func(d string) []string { return []string{strings.Join(strings.Fields(d), " ")} }
	byLine := func(d string) []string { return strings.Split(d, "\n") }
	many := []string{"echo"}
	for i := range 80 {
		many = append(many, fmt.Sprintf("tool_%02d", i))
	}
	many = append(many, "secret_ops")
	few := []string{"echo", "secret_ops", "read"}
	for _, c := range []struct {
		name       string
		tools      []string
		split      func(string) []string
		withLength bool
	}{
		{"one data line", few, oneLine, false},
		{"several data lines", few, byLine, false},
		{"one line over 4 KiB", many, oneLine, false},
		{"upstream sent Content-Length", few, oneLine, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rule := func(cfg *config.Config) {
				cfg.Upstreams[0].Tools = []config.ToolRule{{Match: "secret_*", Groups: []string{"admins"}}}
			}
			g, alice := sseGateway(t, sseListUpstream(c.tools, c.split, c.withLength), testenv.Alice, rule)
			bob := sseToken(g, testenv.Bob)
			visible := slices.DeleteFunc(slices.Clone(c.tools), func(n string) bool { return strings.HasPrefix(n, "secret_") })
			for _, u := range []struct {
				tok  string
				want []string
			}{{alice, visible}, {bob, c.tools}} {
				events := readSSE(t, sseSend(t, t.Context(), g, u.tok, http.MethodPost, sseListBody, nil).Body)
				if ev := events.next(); ev != sseListNotice {
					t.Fatalf("notification changed: %q", ev)
				}
				if got := sseListedTools(t, events.next()); !slices.Equal(got, u.want) {
					t.Errorf("tools/list shows %s, want %s", sseToolSummary(got), sseToolSummary(u.want))
				}
				events.end()
			}
		})
	}
}

// sseListedTools checks the list answer event's field lines and returns the
// tool names of its data.
func sseListedTools(t *testing.T, ev string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(ev, "\n\n"), "\n")
	if len(lines) < 4 || lines[0] != "id: ev-2" || lines[1] != "retry: 3000" || lines[2] != "event: message" {
		t.Fatalf("list event's fields changed: %.300q", ev)
	}
	var data []string
	for _, l := range lines[3:] {
		v, ok := strings.CutPrefix(l, "data:")
		if !ok {
			t.Fatalf("unexpected line %q in %.300q", l, ev)
		}
		data = append(data, strings.TrimPrefix(v, " "))
	}
	var msg struct {
		ID     int
		Result struct{ Tools []struct{ Name string } }
	}
	if err := json.Unmarshal([]byte(strings.Join(data, "\n")), &msg); err != nil || msg.ID != 1 {
		t.Fatalf("list answer unreadable (%v): %.300q", err, ev)
	}
	var names []string
	for _, tl := range msg.Result.Tools {
		names = append(names, tl.Name)
	}
	return names
}

// sseToolSummary names a few tools, and says whether a hidden one is listed.
func sseToolSummary(names []string) string {
	if len(names) <= 4 {
		return fmt.Sprint(names)
	}
	return fmt.Sprintf("%d tools %v... (secret_ops listed: %v)", len(names), names[:3], slices.Contains(names, "secret_ops"))
}
