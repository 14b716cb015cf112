package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/policy"
)

// markFilter stands in for the list filter in sseFilter unit tests: data
// holding "secret" is a list answer that policy must rewrite; anything
// else passes unchanged.
func markFilter(b []byte) []byte {
	if bytes.Contains(b, []byte("secret")) {
		return []byte(`{"filtered":true}`)
	}
	return b
}

// runSSEFilter passes in through an sseFilter over src (in itself when nil)
// and returns what the client receives and the final error (nil at a
// clean end of stream, as io.ReadAll reports it).
func runSSEFilter(t *testing.T, in string, src io.Reader) (string, error) {
	t.Helper()
	if src == nil {
		src = strings.NewReader(in)
	}
	f := &sseFilter{src: bufio.NewReader(src), closer: io.NopCloser(nil), filter: markFilter}
	out, err := io.ReadAll(f)
	return string(out), err
}

// specEvent is one event a client dispatches.
type specEvent struct{ ID, Event, Data string }

// specEvents parses an event stream as the WHATWG HTML standard
// (§9.2.6) says a client must: one leading BOM skipped; lines end in
// CRLF, LF or CR; "data" lines joined with LF; an event is dispatched at
// a blank line when it has data. At the end of the stream a pending event
// is discarded, unless lenient, which dispatches it as the go-sdk client
// does (mcp/event.go, scanEventsLimited). The gateway must be safe for
// both readings.
func specEvents(stream string, lenient bool) []specEvent {
	stream = strings.TrimPrefix(stream, "\uFEFF")
	var out []specEvent
	var ev specEvent
	var data []string
	hasData := false
	dispatch := func() {
		if hasData {
			ev.Data = strings.Join(data, "\n")
			out = append(out, ev)
		}
		ev, data, hasData = specEvent{}, nil, false
	}
	for len(stream) > 0 {
		i := strings.IndexAny(stream, "\r\n")
		if i < 0 {
			// The last line has no terminator: it is still a field line
			// for a lenient client, nothing for a strict one.
			if lenient {
				specField(stream, &ev, &data, &hasData)
				dispatch()
			}
			return out
		}
		line := stream[:i]
		n := 1
		if stream[i] == '\r' && i+1 < len(stream) && stream[i+1] == '\n' {
			n = 2
		}
		stream = stream[i+n:]
		if line == "" {
			dispatch()
			continue
		}
		specField(line, &ev, &data, &hasData)
	}
	if lenient {
		dispatch()
	}
	return out
}

func specField(line string, ev *specEvent, data *[]string, hasData *bool) {
	if strings.HasPrefix(line, ":") {
		return
	}
	name, value, _ := strings.Cut(line, ":")
	value = strings.TrimPrefix(value, " ")
	switch name {
	case "data":
		*data, *hasData = append(*data, value), true
	case "id":
		ev.ID = value
	case "event":
		ev.Event = value
	}
}

// assertNoLeak fails when a strict or a lenient client would see an
// unfiltered list answer in out.
func assertNoLeak(t *testing.T, in, out string) {
	t.Helper()
	for _, lenient := range []bool{false, true} {
		for _, ev := range specEvents(out, lenient) {
			if strings.Contains(ev.Data, "secret") {
				t.Errorf("lenient=%v: a client dispatches unfiltered data %.200q\nin:  %.300q\nout: %.300q", lenient, ev.Data, in, out)
			}
		}
	}
}

// assertSameEvents fails unless out dispatches the events of in, with
// every data payload put through markFilter, under both readings.
func assertSameEvents(t *testing.T, in, out string) {
	t.Helper()
	for _, lenient := range []bool{false, true} {
		want := specEvents(in, lenient)
		for i := range want {
			want[i].Data = string(markFilter([]byte(want[i].Data)))
		}
		got := specEvents(out, lenient)
		if len(got) != len(want) {
			t.Fatalf("lenient=%v: %d events, want %d\nin:  %.300q\nout: %.300q", lenient, len(got), len(want), in, out)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("lenient=%v: event %d = %.300q, want %.300q", lenient, i, fmt.Sprintf("%+v", got[i]), fmt.Sprintf("%+v", want[i]))
			}
		}
	}
}

const secretData = `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret_ops"}]}}`

// TestSSEFilterUnchangedEventsPassByteForByte: events the filter leaves
// alone (notifications, comments, id:, retry:, event:, unknown fields)
// reach the client with every byte and line ending intact (SPEC PX-4).
func TestSSEFilterUnchangedEventsPassByteForByte(t *testing.T) {
	for _, in := range []string{
		"id: 1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n",
		"retry: 1500\n\n: keep-alive comment\n\nid: 42\n\n",
		"data:no-space\ndata:  two spaces\nunknown: field\n\n",
		"id: 7\r\ndata: crlf\r\n\r\nid: 8\r\nretry: 3\r\n\r\n",
		"data: multi\ndata: line\n\nevent: ping\n\n",
		"data\n\n", // a field name with no colon
		"",
	} {
		out, err := runSSEFilter(t, in, nil)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if out != in {
			t.Errorf("changed:\nin:  %q\nout: %q", in, out)
		}
	}
}

// TestSSEFilterRewritesListAnswers: an event whose data is a list answer
// is rewritten, its id:, event: and retry: lines kept in place, the
// events around it untouched, and a payload over several data: lines is
// joined before filtering (WHATWG §9.2.6).
func TestSSEFilterRewritesListAnswers(t *testing.T) {
	for name, in := range map[string]string{
		"lf":    "id: 1\ndata: note\n\nid: 2\nretry: 10\nevent: message\ndata: " + secretData + "\n\nid: 3\ndata: after\n\n",
		"crlf":  "id: 1\r\ndata: note\r\n\r\nid: 2\r\nretry: 10\r\ndata: " + secretData + "\r\n\r\nid: 3\r\ndata: after\r\n\r\n",
		"split": "id: 2\ndata: {\"jsonrpc\":\"2.0\",\ndata: \"id\":1,\"result\":{\"tools\":[\ndata: {\"name\":\"secret_ops\"}]}}\nid: 2b\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			out, err := runSSEFilter(t, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			assertSameEvents(t, in, out)
			assertNoLeak(t, in, out)
			if !strings.Contains(out, "retry: 10") && name != "split" {
				t.Errorf("retry line lost: %q", out)
			}
		})
	}
}

// TestSSEFilterLongLines: lines longer than bufio's 4096-byte buffer are
// read whole, filtered when they must be and passed byte for byte when
// not.
func TestSSEFilterLongLines(t *testing.T) {
	long := strings.Repeat("x", 3*4096+17)
	plain := "id: 1\ndata: {\"pad\":\"" + long + "\"}\n\n: " + long + "\n\n"
	out, err := runSSEFilter(t, plain, nil)
	if err != nil || out != plain {
		t.Fatalf("long unchanged event: err %v, equal %v", err, out == plain)
	}
	hidden := "id: 2\ndata: {\"pad\":\"" + long + "\",\"name\":\"secret_ops\"}\n\n" + plain
	out, err = runSSEFilter(t, hidden, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertSameEvents(t, hidden, out)
	assertNoLeak(t, hidden, out)
}

// TestSSEFilterSmallReads: the filter's output does not depend on how the
// upstream's bytes arrive (a CRLF split between reads included) or how
// the client's reads are sized.
func TestSSEFilterSmallReads(t *testing.T) {
	in := "id: 1\r\ndata: note\r\n\r\ndata: " + secretData + "\r\n\r\n: c\n\nid: 3\rdata: " + secretData + "\r\rdata: end\n\n"
	whole, _ := runSSEFilter(t, in, nil)
	assertSameEvents(t, in, whole)
	assertNoLeak(t, in, whole)
	f := &sseFilter{src: bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(in)), 16), closer: io.NopCloser(nil), filter: markFilter}
	bytewise, err := io.ReadAll(iotest.OneByteReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if string(bytewise) != whole {
		t.Fatalf("byte-wise %.300q\nwhole     %.300q", bytewise, whole)
	}
}

// TestSSEFilterEventsWithoutData: events with no data line (id only,
// retry only, comments, event names) are passed through, never given to
// the JSON filter.
func TestSSEFilterEventsWithoutData(t *testing.T) {
	called := 0
	in := "id: 9\n\nretry: 100\n\n: secret comment\n\nevent: secret\n\n"
	f := &sseFilter{src: bufio.NewReader(strings.NewReader(in)), closer: io.NopCloser(nil), filter: func(b []byte) []byte {
		called++
		return b
	}}
	out, _ := io.ReadAll(f)
	if string(out) != in || called != 0 {
		t.Fatalf("out %q, filter called %d times", out, called)
	}
}

// TestSSEFilterStreamsEachEvent: each event is handed on as soon as its
// blank line arrives, before the upstream writes the next (SPEC PX-4, no
// buffering across events).
func TestSSEFilterStreamsEachEvent(t *testing.T) {
	pr, pw := io.Pipe()
	f := &sseFilter{src: bufio.NewReader(pr), closer: pr, filter: markFilter}
	defer f.Close()
	got := make(chan string)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				got <- string(buf[:n])
			}
			if err != nil {
				close(got)
				return
			}
		}
	}()
	for _, ev := range []string{"id: 1\ndata: one\n\n", "data: " + secretData + "\n\n", "id: 3\r\ndata: three\r\n\r\n"} {
		go pw.Write([]byte(ev))
		if out := <-got; out != string(markFilterEvent(ev)) {
			t.Fatalf("read %q for event %q", out, ev)
		}
	}
	pw.Close()
	if _, open := <-got; open {
		t.Fatal("data after the stream ended")
	}
}

// markFilterEvent is what sseFilter makes of one LF-terminated event.
func markFilterEvent(ev string) []byte {
	if strings.Contains(ev, "secret") {
		return []byte("data: {\"filtered\":true}\n\n")
	}
	return []byte(ev)
}

// TestSSEFilterEventTooLarge: an event over maxEvent ends the stream with
// an error instead of growing the buffer or passing the event unfiltered.
func TestSSEFilterEventTooLarge(t *testing.T) {
	in := "data: " + strings.Repeat("s", maxEvent) + "secret\n\n"
	out, err := runSSEFilter(t, in, nil)
	if err == nil || strings.Contains(out, "secret") {
		t.Fatalf("err %v, %d bytes out", err, len(out))
	}
}

// TestSSEFilterStreamEndWithoutBlankLine: a list answer in the last event
// of a stream that ends without the terminating blank line must still be
// filtered. The go-sdk client dispatches such an event
// (scanEventsLimited yields the pending event at EOF), so passing it raw
// shows the caller tools policy hides (fail open).
func TestSSEFilterStreamEndWithoutBlankLine(t *testing.T) {
	for _, in := range []string{
		"id: 1\ndata: note\n\ndata: " + secretData + "\n",
		"id: 1\ndata: note\n\ndata: " + secretData,
		"data: " + secretData + "\r\n",
	} {
		out, err := runSSEFilter(t, in, nil)
		if err != nil {
			t.Errorf("%q: err %v", in, err)
		}
		assertNoLeak(t, in, out)
	}
}

// TestSSEFilterCRLineEndings: a bare CR ends a line in an event stream
// (WHATWG §9.2.5; the TypeScript SDK's eventsource-parser and browsers
// honour it). The filter must find the data of such events; reading only
// LF-terminated lines sees one endless line, holds every event back and
// at the end passes the list answer unfiltered.
func TestSSEFilterCRLineEndings(t *testing.T) {
	in := "id: 1\rdata: note\r\rid: 2\rdata: " + secretData + "\r\r"
	out, err := runSSEFilter(t, in, nil)
	if err != nil {
		t.Errorf("err %v", err)
	}
	assertNoLeak(t, in, out)
	assertSameEvents(t, in, out)
}

// TestSSEFilterLeadingBOM: a client skips one UTF-8 BOM at the start of
// the stream (WHATWG §9.2.6), so "\uFEFFdata:" is a data line to it and
// must be to the filter too.
func TestSSEFilterLeadingBOM(t *testing.T) {
	in := "\uFEFFdata: " + secretData + "\n\n"
	out, err := runSSEFilter(t, in, nil)
	if err != nil {
		t.Errorf("err %v", err)
	}
	assertNoLeak(t, in, out)
}

// TestSSEFilterSourceError: a read error from the upstream ends the stream
// with that error, after the events before it.
func TestSSEFilterSourceError(t *testing.T) {
	boom := errors.New("upstream reset")
	src := io.MultiReader(strings.NewReader("data: one\n\n"), iotest.ErrReader(boom))
	out, err := runSSEFilter(t, "", src)
	if !errors.Is(err, boom) || !strings.HasPrefix(out, "data: one\n\n") {
		t.Fatalf("out %q, err %v", out, err)
	}
}

// FuzzSSEFilter: whatever an upstream streams, and however its bytes are
// split across reads, a client (strict or lenient, see specEvents) sees
// the upstream's events with exactly their list answers filtered: no
// event appears, vanishes, merges or leaks.
func FuzzSSEFilter(f *testing.F) {
	for _, s := range []string{
		"id: 1\ndata: note\n\ndata: " + secretData + "\n\n",
		"data: a\r\ndata: secret\r\n\r\nid: 2\rdata: secret\r\r",
		"\uFEFFdata: secret\n\n",
		"data:secret\ndata\nevent: x\nretry: 5\n: c\n",
		"data: x\r",
		"\r\n\r\n\n\r",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		src := &chunkReader{b: in, n: int(chunk%8) + 1}
		out, err := runSSEFilter(t, "", src)
		if err != nil {
			t.Fatal(err)
		}
		assertSameEvents(t, string(in), out)
	})
}

// chunkReader yields b n bytes at a time.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// filterRoute is a route with rules hiding secret_* tools and prompts
// and file:///secret/ resources from non-admins, and a caller in groups.
func filterRoute(t testing.TB, groups ...string) (*route, Principal) {
	t.Helper()
	pol, err := policy.Compile([]string{"files:read"}, []config.ToolRule{
		{Match: "secret_*", Groups: []string{"admins"}},
		{Match: "file:///secret/*", Groups: []string{"admins"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &route{policy: pol}, Principal{Principal: policy.Principal{Subject: "local:alice", Groups: groups, Scopes: []string{"files:read"}}}
}

// TestFilterPayload: list answers keep exactly the visible items; anything
// else passes byte for byte; an answer the gateway cannot read, or could
// read otherwise than a client, becomes an error (fail closed, SPEC PX-7).
func TestFilterPayload(t *testing.T) {
	rt, alice := filterRoute(t, "staff")
	const (
		pass    = "pass"
		refused = "refused"
	)
	for _, c := range []struct {
		name, in string
		want     string // pass, refused, or the visible names joined by ","
	}{
		{"tools", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo","x":1},{"name":"secret_ops"}],"nextCursor":"c"}}`, "echo"},
		{"id spelled otherwise", `{"jsonrpc":"2.0","id":"\u0031","result":{"tools":[{"name":"secret_a"},{"name":"b"}]}}`, "b"},
		{"prompts", `{"jsonrpc":"2.0","id":"p","result":{"prompts":[{"name":"secret_p"},{"name":"hello"}]}}`, "hello"},
		{"resources by uri", `{"jsonrpc":"2.0","id":3,"result":{"resources":[{"uri":"file:///secret/k"},{"uri":"file:///pub/a","name":"secret_named"}]}}`, "file:///pub/a"},
		{"duplicate tools keys", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}],"tools":[{"name":"secret_ops"},{"name":"b"}]}}`, "b"},
		{"duplicate name keys", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret_ops","name":"echo"}]}}`, "echo"},
		{"batch", `[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret_ops"},{"name":"b"}]}}]`, "b"},
		{"notification", `{"jsonrpc":"2.0" , "method":"notifications/tools/list_changed"}`, pass},
		{"call result mentioning tools", `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\"tools\":[{\"name\":\"secret_ops\"}]}"}]}}`, pass},
		{"error answer", `{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"no tools"}}`, pass},
		{"request", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"tools":[]}}`, pass},
		{"batch without lists", ` [{"jsonrpc":"2.0","method":"a"} , {"jsonrpc":"2.0","id":9,"result":{}}]`, pass},
		{"tools not a list", `{"jsonrpc":"2.0","id":1,"result":{"tools":{"name":"secret_ops"}}}`, refused},
		{"item without name", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"description":"secret_ops"}]}}`, refused},
		{"name not a string", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":["secret_ops"]}]}}`, refused},
		{"case variant of name", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo","Name":"secret_ops"}]}}`, refused},
		{"case variant of tools", `{"jsonrpc":"2.0","id":1,"result":{"Tools":[{"name":"secret_ops"}]}}`, refused},
		{"case variant of result", `{"jsonrpc":"2.0","id":1,"RESULT":{"tools":[{"name":"secret_ops"}]}}`, refused},
		{"escaped key", `{"jsonrpc":"2.0","id":1,"result":{"t\u006fols":[{"name":"secret_ops"}]}}`, "none"},
		{"broken batch", `[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret_ops"}]}},]`, refused},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := rt.filterPayload([]byte(c.in), alice)
			switch c.want {
			case pass:
				if string(got) != c.in {
					t.Errorf("changed:\n got %s\nwant %s", got, c.in)
				}
			case refused:
				if !bytes.Contains(got, []byte(`"error"`)) || bytes.Contains(got, []byte("secret_")) {
					t.Errorf("not refused: %s", got)
				}
			default:
				want := c.want
				if want == "none" {
					want = ""
				}
				if names := listedNames(t, got); names != want {
					t.Errorf("lists %q, want %q (%s)", names, want, got)
				}
			}
		})
	}
}

// listedNames decodes a filtered answer (or batch) as a client would and
// returns the names (uris for resources) it lists, joined by ",".
func listedNames(t *testing.T, b []byte) string {
	t.Helper()
	type item struct{ Name, URI string }
	type msg struct {
		Result struct{ Tools, Prompts, Resources []item }
	}
	var msgs []msg
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		if err := json.Unmarshal(b, &msgs); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
	} else {
		msgs = make([]msg, 1)
		if err := json.Unmarshal(b, &msgs[0]); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
	}
	var names []string
	for _, m := range msgs {
		for _, it := range slices.Concat(m.Result.Tools, m.Result.Prompts) {
			names = append(names, it.Name)
		}
		for _, it := range m.Result.Resources {
			names = append(names, it.URI)
		}
	}
	return strings.Join(names, ",")
}

// TestFilterPayloadAdminSeesAll: a caller the rules admit sees every item.
func TestFilterPayloadAdminSeesAll(t *testing.T) {
	rt, bob := filterRoute(t, "staff", "admins")
	in := `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"},{"name":"secret_ops"}]}}`
	if got := listedNames(t, rt.filterPayload([]byte(in), bob)); got != "echo,secret_ops" {
		t.Fatalf("lists %q", got)
	}
}

// BenchmarkProxySSEFilter is the list filter's cost per relayed event
// (SPEC PF-5: an event may cost at most 50 µs over the reference proxy):
// 1 KiB notification events, which hold no list and pass unchanged.
func BenchmarkProxySSEFilter(b *testing.B) {
	ev := []byte("id: 1\nevent: message\ndata: " + `{"jsonrpc":"2.0","method":"notifications/progress","params":{"message":"` +
		strings.Repeat("x", 1024) + `"}}` + "\n\n")
	rt, pr := filterRoute(b)
	src := &repeatReader{ev: ev}
	f := &sseFilter{src: bufio.NewReader(src), closer: io.NopCloser(nil), filter: func(p []byte) []byte { return rt.filterPayload(p, pr) }}
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	for b.Loop() {
		for n := 0; n < len(ev); {
			m, err := f.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			n += m
		}
	}
}

// repeatReader yields ev over and over.
type repeatReader struct {
	ev  []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.ev[r.off:])
	r.off = (r.off + n) % len(r.ev)
	return n, nil
}
