package stdio

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// A batch reaches the child as one message per line and its stream ends
// after the last response; a body of notifications only gets 202.
func TestBatchAndNotifications(t *testing.T) {
	u := newUpstream(t, "raw", nil)
	id := u.initRaw(t)
	ctx := context.Background()
	resp := u.do(t, ctx, "POST", id, "[\n"+
		`{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1}},`+"\n"+
		`{"jsonrpc":"2.0","method":"notifications/initialized"},`+"\n"+
		`{"jsonrpc":"2.0","id":"two","method":"echo","params":{"b":2}}`+"\n]")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("batch: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	evs := readEvents(t, resp.Body)
	resp.Body.Close()
	if len(evs) != 2 || !strings.Contains(evs[0], `"id":1`) || !strings.Contains(evs[1], `"id":"two"`) {
		t.Fatalf("batch events %q", evs)
	}
	resp = u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if got := body(t, resp); resp.StatusCode != 202 || got != "" {
		t.Fatalf("notification: %s %q", resp.Status, got)
	}
	// A response to a request of the child's (sampling, say) is also 202.
	resp = u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","id":"srv-1","result":{}}`)
	if body(t, resp); resp.StatusCode != 202 {
		t.Fatalf("response: %s", resp.Status)
	}
}

// What the child writes is framed so an SSE reader sees exactly one
// message per event: a CRLF-terminated, pretty-printed message comes out as
// one event, a line that is not JSON is dropped, and a batch from the child
// is split into events.
func TestChildOutputFraming(t *testing.T) {
	u := newUpstream(t, "raw", nil)
	id := u.initRaw(t)
	for _, tc := range []struct {
		method string
		want   []string
	}{
		{"crlf", []string{`{"jsonrpc":"2.0","id":"x","result":"a\r\nb"}`}},
		{"junk_then_reply", []string{`{"jsonrpc":"2.0","id":"x","result":"after junk"}`}},
	} {
		resp := u.do(t, context.Background(), "POST", id, `{"jsonrpc":"2.0","id":"x","method":"`+tc.method+`"}`)
		evs := readEvents(t, resp.Body)
		resp.Body.Close()
		if len(evs) != len(tc.want) {
			t.Fatalf("%s: events %q", tc.method, evs)
		}
		for i := range evs {
			assertSameJSON(t, evs[i], tc.want[i])
		}
	}
	resp := u.do(t, context.Background(), "POST", id,
		`[{"jsonrpc":"2.0","id":"k","method":"batch"},{"jsonrpc":"2.0","id":"k-b","method":"unanswered"}]`)
	evs := readEvents(t, resp.Body)
	resp.Body.Close()
	if len(evs) != 2 {
		t.Fatalf("child batch: events %q", evs)
	}
	assertSameJSON(t, evs[0], `{"jsonrpc":"2.0","id":"k","result":"one"}`)
	assertSameJSON(t, evs[1], `{"jsonrpc":"2.0","id":"k-b","result":"two"}`)
	u.logs.await(t, "junk line logged", func(r logRecord) bool {
		return r.msg == "stdio child wrote a non-JSON-RPC stdout line" && r.attrs["line"] == "this is not JSON"
	})
}

func assertSameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("event %q: %v", got, err)
	}
	json.Unmarshal([]byte(want), &w)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("event %s, want %s", gb, wb)
	}
}

// Messages the child sends outside any request wait for the GET stream,
// and there is only one GET stream per session.
func TestUnsolicitedMessagesGoToGetStream(t *testing.T) {
	u := newUpstream(t, "raw", nil)
	id := u.initRaw(t)
	ctx := context.Background()
	u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","method":"poke"}`).Body.Close()
	s := onlySession(t, u.bridge)
	waitFor(t, "the poke's notification to be held", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.backlog) == 1
	})
	getCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	get := u.do(t, getCtx, "GET", id, "")
	defer get.Body.Close()
	if get.StatusCode != 200 {
		t.Fatalf("GET: %s", get.Status)
	}
	events := newEventScanner(get.Body)
	if ev, err := events.next(); err != nil || !strings.Contains(ev, "poked") {
		t.Fatalf("held message: %q %v", ev, err)
	}
	second := u.do(t, ctx, "GET", id, "")
	if body(t, second); second.StatusCode != 409 {
		t.Fatalf("second GET: %s", second.Status)
	}
	// With the stream open, a new one goes straight to it.
	u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","method":"poke"}`).Body.Close()
	if ev, err := events.next(); err != nil || !strings.Contains(ev, "poked") {
		t.Fatalf("live message: %q %v", ev, err)
	}
	noSession := u.do(t, ctx, "GET", "", "")
	if body(t, noSession); noSession.StatusCode != 400 {
		t.Fatalf("GET without session: %s", noSession.Status)
	}
}

// A progress notification goes to the stream of the request that asked for
// it, not to whichever POST stream is oldest.
func TestProgressFollowsItsToken(t *testing.T) {
	u := newUpstream(t, "raw", nil)
	id := u.initRaw(t)
	ctx := context.Background()
	held := u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","id":"held","method":"hold"}`)
	defer held.Body.Close()
	resp := u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","id":"p","method":"progress","params":{"_meta":{"progressToken":"tok"}}}`)
	evs := readEvents(t, resp.Body)
	resp.Body.Close()
	if len(evs) != 2 || !strings.Contains(evs[0], `"progressToken":"tok"`) || !strings.Contains(evs[1], `"id":"p"`) {
		t.Fatalf("progress stream events %q", evs)
	}
	// Other unsolicited messages go to the oldest open POST stream.
	resp = u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","id":"n","method":"notify_then_reply"}`)
	if evs := readEvents(t, resp.Body); len(evs) != 1 || !strings.Contains(evs[0], `"id":"n"`) {
		t.Fatalf("notify_then_reply stream events %q", evs)
	}
	resp.Body.Close()
	u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","method":"release"}`).Body.Close()
	evs = readEvents(t, held.Body)
	if len(evs) != 2 || !strings.Contains(evs[0], "before reply") || !strings.Contains(evs[1], `"id":"held"`) {
		t.Fatalf("held stream events %q", evs)
	}
}

// An id already in flight in the session is refused: its response could
// not tell the two requests apart.
func TestDuplicateInFlightID(t *testing.T) {
	u := newUpstream(t, "raw", nil)
	id := u.initRaw(t)
	ctx := context.Background()
	held := u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","id":7,"method":"hold"}`)
	defer held.Body.Close()
	for _, b := range []string{
		`{"jsonrpc":"2.0","id":7,"method":"echo"}`,
		`[{"jsonrpc":"2.0","id":"x","method":"echo"},{"jsonrpc":"2.0","id":"x","method":"echo"}]`,
	} {
		resp := u.do(t, ctx, "POST", id, b)
		if got := body(t, resp); resp.StatusCode != 400 || !strings.Contains(got, "already in flight") {
			t.Fatalf("duplicate id %s: %s %s", b, resp.Status, got)
		}
	}
	// The string "7" is another id than the number 7.
	resp := u.do(t, ctx, "POST", id, `{"jsonrpc":"2.0","id":"7","method":"echo"}`)
	if evs := readEvents(t, resp.Body); len(evs) != 1 || !strings.Contains(evs[0], `"id":"7"`) {
		t.Fatalf("string id events %q", evs)
	}
	resp.Body.Close()
}

// A stdout line over the bound ends the session, with a log line; so does
// the child exiting, whose status is logged. Later requests get 404.
func TestChildEndsSession(t *testing.T) {
	for _, tc := range []struct {
		method, log string
	}{
		{`"big","params":{"n":2048}`, "stdio child wrote a stdout line over the limit"},
		{`"exit"`, "stdio child exited"},
	} {
		t.Run(strings.Trim(strings.Split(tc.method, ",")[0], `"`), func(t *testing.T) {
			u := newUpstream(t, "raw", func(o *Options) { o.MaxMessageBytes = 1024 })
			id := u.initRaw(t)
			resp := u.do(t, context.Background(), "POST", id, `{"jsonrpc":"2.0","id":1,"method":`+tc.method+`}`)
			if evs := readEvents(t, resp.Body); len(evs) != 0 {
				t.Fatalf("events %q", evs)
			}
			resp.Body.Close()
			waitFor(t, "the child to be reaped", func() bool { return u.bridge.Processes() == 0 })
			rec := u.logs.await(t, tc.log, func(r logRecord) bool { return r.msg == tc.log })
			if rec.attrs["upstream"] != "test-upstream" {
				t.Fatalf("log attrs %v", rec.attrs)
			}
			exit := u.logs.await(t, "exit", func(r logRecord) bool { return r.msg == "stdio child exited" })
			if strings.Contains(tc.method, "exit") && exit.attrs["status"] != "exit status 3" {
				t.Fatalf("exit status logged as %q", exit.attrs["status"])
			}
			resp = u.do(t, context.Background(), "POST", id, `{"jsonrpc":"2.0","id":2,"method":"echo"}`)
			if body(t, resp); resp.StatusCode != 404 {
				t.Fatalf("after the child ended: %s", resp.Status)
			}
		})
	}
}

func TestRequestBodyLimit(t *testing.T) {
	u := newUpstream(t, "raw", func(o *Options) { o.MaxMessageBytes = 1024 })
	id := u.initRaw(t)
	big := `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":"` + strings.Repeat("a", 2048) + `"}}`
	resp := u.do(t, context.Background(), "POST", id, big)
	if body(t, resp); resp.StatusCode != 413 {
		t.Fatalf("oversized body: %s", resp.Status)
	}
}
