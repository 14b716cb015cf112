package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWriterSinkWritesGoldenLine(t *testing.T) {
	var buf bytes.Buffer
	s := NewWriterSink(&buf)
	if err := s.Record(context.Background(), fullEvent()); err != nil {
		t.Fatal(err)
	}
	if want := readGolden(t, "event.golden.jsonl"); buf.String() != string(want) {
		t.Fatalf("got  %s\nwant %s", buf.Bytes(), want)
	}
}

func TestWriterSinkClock(t *testing.T) {
	var buf bytes.Buffer
	now := fixedTime
	s := NewWriterSink(&buf, WithClock(func() time.Time { return now }))
	for range 3 {
		if err := s.Record(context.Background(), Event{Type: ToolCallAllowed}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	events := parseLines(t, buf.Bytes())
	for i, e := range events {
		if want := fixedTime.Add(time.Duration(i) * time.Second); !e.Time.Equal(want) {
			t.Errorf("event %d at %v, want %v", i, e.Time, want)
		}
		if i > 0 && e.ID <= events[i-1].ID {
			t.Errorf("IDs not increasing: %s after %s", e.ID, events[i-1].ID)
		}
	}
}

func TestInvalidTypeRejected(t *testing.T) {
	var buf bytes.Buffer
	sinks := map[string]Recorder{
		"writer":  NewWriterSink(&buf),
		"multi":   Multi(NewWriterSink(&buf)),
		"func":    RecorderFunc(func(context.Context, Event) error { t.Error("called"); return nil }),
		"discard": Discard,
	}
	for name, r := range sinks {
		for _, typ := range []EventType{"", "bogus", "TOKEN_ISSUED"} {
			if err := r.Record(context.Background(), Event{Type: typ}); !errors.Is(err, ErrInvalidType) {
				t.Errorf("%s: Record(%q) = %v, want ErrInvalidType", name, typ, err)
			}
		}
	}
	if buf.Len() != 0 {
		t.Fatalf("invalid events were written: %s", buf.Bytes())
	}
}

// TestFileSinkConcurrent: many goroutines, one file; every event must come
// out as exactly one whole line. Run with -race.
func TestFileSinkConcurrent(t *testing.T) {
	const writers, each = 32, 50
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := NewJSONLFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := fullEvent()
				e.ID = "" // let the sink generate one
				e.Details = map[string]any{"writer": w, "i": i, "pad": strings.Repeat("x", 512*(i%8))}
				if err := s.Record(context.Background(), e); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	events := parseLines(t, readFile(t, path))
	if len(events) != writers*each {
		t.Fatalf("%d lines, want %d", len(events), writers*each)
	}
	ids := map[string]bool{}
	for _, e := range events {
		ids[e.ID] = true
	}
	if len(ids) != writers*each {
		t.Fatalf("%d distinct IDs, want %d", len(ids), writers*each)
	}
}

func TestFileSinkAppendsWithPrivateMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for range 2 { // the second open must append, not truncate
		s, err := NewJSONLFile(path, WithClock(func() time.Time { return fixedTime }))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Record(context.Background(), Event{Type: ServerStarted}); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(parseLines(t, readFile(t, path))); n != 2 {
		t.Fatalf("%d lines, want 2", n)
	}
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("mode %v, want 0600", perm)
	}
}

func TestFileSinkNeedsParentDir(t *testing.T) {
	_, err := NewJSONLFile(filepath.Join(t.TempDir(), "missing", "audit.jsonl"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

func TestClosedSinkRefuses(t *testing.T) {
	s, err := NewJSONLFile(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Record(context.Background(), Event{Type: ServerStopped}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close = %v, want ErrClosed", err)
	}
	if err := s.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close = %v, want ErrClosed", err)
	}
}

// An event caused by a request must be written even when that request's
// context is already gone.
func TestCancelledContextStillRecords(t *testing.T) {
	var buf bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewWriterSink(&buf).Record(ctx, Event{Type: TokenIssued}); err != nil {
		t.Fatal(err)
	}
	if len(parseLines(t, buf.Bytes())) != 1 {
		t.Fatal("event not written")
	}
}

// tornWriter writes only half of its first line, as a full disk would.
type tornWriter struct {
	bytes.Buffer
	failed bool
}

func (w *tornWriter) Write(p []byte) (int, error) {
	if !w.failed {
		w.failed = true
		n, _ := w.Buffer.Write(p[:len(p)/2])
		return n, errors.New("no space left on device")
	}
	return w.Buffer.Write(p)
}

func TestTornLineDoesNotCorruptTheNext(t *testing.T) {
	w := &tornWriter{}
	s := NewWriterSink(w)
	if err := s.Record(context.Background(), Event{Type: TokenIssued}); err == nil {
		t.Fatal("partial write not reported")
	}
	if err := s.Record(context.Background(), Event{Type: TokenRevoked}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), w.String())
	}
	var e Event
	if err := json.Unmarshal([]byte(lines[1]), &e); err != nil || e.Type != TokenRevoked {
		t.Fatalf("line after the torn one: %v %q", err, lines[1])
	}
}

func parseLines(t *testing.T, b []byte) []Event {
	t.Helper()
	var out []Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d: %v: %s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(fmt.Errorf("read %s: %w", path, err))
	}
	return b
}
