package stdio

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"
)

// testUpstream is a bridge behind the same ReverseProxy setup the gateway's
// proxy uses, served by httptest.
type testUpstream struct {
	bridge *Bridge
	url    string
	http   *http.Client
	logs   *logSink
}

// newUpstream starts a bridge whose children are this test binary in the
// given server mode; edit adjusts the options.
func newUpstream(t *testing.T, mode string, edit func(*Options)) *testUpstream {
	t.Helper()
	// Registered first, so it runs after every other cleanup: the bridge,
	// its children's goroutines and the HTTP plumbing must all be gone.
	t.Cleanup(func() { goleak.VerifyNone(t) })
	logs := newLogSink()
	opts := Options{
		Name:    "test-upstream",
		Command: []string{os.Args[0]},
		Env:     map[string]string{serverEnv: mode},
		Log:     slog.New(logs),
	}
	if edit != nil {
		edit(&opts)
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse("http://stdio.invalid/mcp")
	srv := httptest.NewServer(&httputil.ReverseProxy{
		Transport:     b,
		FlushInterval: -1,
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
	})
	// The timeout turns a bridge bug that never ends a stream into a
	// failure instead of a hung test binary.
	hc := &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}
	t.Cleanup(func() {
		// The bridge first: it ends every open stream, so srv.Close has no
		// request left to wait for.
		closeWithin(t, b, 10*time.Second)
		hc.CloseIdleConnections()
		srv.Close()
	})
	return &testUpstream{bridge: b, url: srv.URL, http: hc, logs: logs}
}

// closeWithin fails the test if Close does not return in time: a child
// that ignores SIGTERM must not be able to hold shutdown open.
func closeWithin(t *testing.T, b *Bridge, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { b.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("Close did not return within %v", d)
	}
}

// connect is a go-sdk client session through the bridge.
func (u *testUpstream) connect(t *testing.T, copts *mcp.ClientOptions, standalone bool) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, copts)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: u.url, HTTPClient: u.http, DisableStandaloneSSE: !standalone, MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callText(t *testing.T, cs *mcp.ClientSession, tool string, args any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	if res.IsError || len(res.Content) != 1 {
		t.Fatalf("call %s: unexpected result %+v", tool, res)
	}
	return res.Content[0].(*mcp.TextContent).Text
}

// do sends a raw request; session may be empty.
func (u *testUpstream) do(t *testing.T, ctx context.Context, method, session, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, u.url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set(headerSession, session)
	}
	resp, err := u.http.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return resp
}

const rawInit = `{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// initRaw opens a session with a raw initialize and returns its ID.
func (u *testUpstream) initRaw(t *testing.T) string {
	t.Helper()
	resp := u.do(t, context.Background(), "POST", "", rawInit)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("initialize: %s", resp.Status)
	}
	id := resp.Header.Get(headerSession)
	if id == "" {
		t.Fatal("initialize: no session ID")
	}
	if evs := readEvents(t, resp.Body); len(evs) != 1 || !strings.Contains(evs[0], `"id":"init"`) {
		t.Fatalf("initialize: events %q", evs)
	}
	return id
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readEvents reads SSE events to the end of r and returns their data.
func readEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var evs []string
	sc := newEventScanner(r)
	for {
		ev, err := sc.next()
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatalf("reading events: %v", err)
		}
		evs = append(evs, ev)
	}
}

// eventScanner parses SSE as the WHATWG algorithm does: CR, LF and CRLF
// all end a line, and a blank line ends an event.
type eventScanner struct{ r *bufio.Reader }

func newEventScanner(r io.Reader) *eventScanner { return &eventScanner{bufio.NewReader(r)} }

func (sc *eventScanner) next() (string, error) {
	var data []string
	seen := false
	for {
		l, err := sc.line()
		if err != nil {
			if errors.Is(err, io.EOF) && seen {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		if l == "" {
			if seen {
				return strings.Join(data, "\n"), nil
			}
			continue
		}
		seen = true
		field, value, _ := strings.Cut(l, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			data = append(data, value)
		case "event":
			if value != "message" {
				return "", errors.New("unexpected event type " + value)
			}
		default:
			return "", errors.New("unexpected field " + field)
		}
	}
}

func (sc *eventScanner) line() (string, error) {
	var b strings.Builder
	for {
		c, err := sc.r.ReadByte()
		if err != nil {
			if b.Len() > 0 && errors.Is(err, io.EOF) {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		switch c {
		case '\n':
			return b.String(), nil
		case '\r':
			if n, err := sc.r.Peek(1); err == nil && n[0] == '\n' {
				sc.r.ReadByte()
			}
			return b.String(), nil
		}
		b.WriteByte(c)
	}
}

// waitFor polls cond until it holds or a deadline passes. Only for OS
// events with no hook to wait on (a process being reaped).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logSink is a slog.Handler that keeps every record and signals each.
type logSink struct {
	mu      sync.Mutex
	records []logRecord
	attrs   []slog.Attr
	notify  chan struct{}
	parent  *logSink
}

type logRecord struct {
	msg   string
	attrs map[string]string
}

func newLogSink() *logSink { return &logSink{notify: make(chan struct{}, 1)} }

func (h *logSink) root() *logSink {
	if h.parent != nil {
		return h.parent.root()
	}
	return h
}

func (h *logSink) Enabled(context.Context, slog.Level) bool { return true }

func (h *logSink) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { rec.attrs[a.Key] = a.Value.String(); return true })
	root := h.root()
	root.mu.Lock()
	root.records = append(root.records, rec)
	root.mu.Unlock()
	select {
	case root.notify <- struct{}{}:
	default:
	}
	return nil
}

func (h *logSink) WithAttrs(as []slog.Attr) slog.Handler {
	return &logSink{attrs: append(append([]slog.Attr{}, h.attrs...), as...), parent: h.root()}
}

func (h *logSink) WithGroup(string) slog.Handler { return h }

// await returns the first record match accepts, waiting for it.
func (h *logSink) await(t *testing.T, what string, match func(logRecord) bool) logRecord {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		h.mu.Lock()
		for _, r := range h.records {
			if match(r) {
				h.mu.Unlock()
				return r
			}
		}
		h.mu.Unlock()
		select {
		case <-h.notify:
		case <-deadline:
			t.Fatalf("no log record: %s", what)
		}
	}
}
