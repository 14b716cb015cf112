package audit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestMultiSameEventEverywhere(t *testing.T) {
	var a, b bytes.Buffer
	var seen []Event
	m := Multi(NewWriterSink(&a), NewWriterSink(&b), RecorderFunc(func(_ context.Context, e Event) error {
		seen = append(seen, e)
		return nil
	}))
	if err := m.Record(context.Background(), Event{Type: ConsentGranted, Risk: 150}); err != nil {
		t.Fatal(err)
	}
	if a.Len() == 0 || a.String() != b.String() {
		t.Fatalf("sinks differ:\n%s\n%s", a.Bytes(), b.Bytes())
	}
	got := parseLines(t, a.Bytes())[0]
	if len(seen) != 1 || seen[0].ID != got.ID || !seen[0].Time.Equal(got.Time) {
		t.Fatalf("func recorder saw %+v, sinks wrote %+v", seen, got)
	}
	if got.ID == "" || got.Risk != MaxRisk {
		t.Fatalf("not prepared: %+v", got)
	}
}

func TestMultiJoinsErrorsAndKeepsGoing(t *testing.T) {
	errA, errB := errors.New("disk full"), errors.New("store down")
	var buf bytes.Buffer
	fail := func(err error) Recorder {
		return RecorderFunc(func(context.Context, Event) error { return err })
	}
	closed := NewWriterSink(&buf)
	m := Multi(fail(errA), NewWriterSink(&buf), fail(errB), closed)
	closed.Close()
	err := m.Record(context.Background(), Event{Type: RateLimitExceeded})
	for _, want := range []error{errA, errB, ErrClosed} {
		if !errors.Is(err, want) {
			t.Errorf("error %v does not include %v", err, want)
		}
	}
	if len(parseLines(t, buf.Bytes())) != 1 {
		t.Fatal("the healthy sink was skipped")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMultiEmpty(t *testing.T) {
	m := Multi()
	if err := m.Record(context.Background(), Event{Type: ServerStarted}); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// outsideRecorder is a Recorder from another package: Multi can only call
// its Record.
type outsideRecorder struct{ got []Event }

func (o *outsideRecorder) Record(_ context.Context, e Event) error {
	o.got = append(o.got, e)
	return nil
}
func (o *outsideRecorder) Close() error { return nil }

// Multi's sinks skip their own Prepare (recordPrepared): the one Multi ran
// must already have redacted, clamped and stamped what each of them writes.
func TestMultiSinksWritePreparedEvent(t *testing.T) {
	var buf bytes.Buffer
	path := t.TempDir() + "/audit.jsonl"
	f, err := NewJSONLFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := &outsideRecorder{}
	m := Multi(NewWriterSink(&buf), f, out)
	e := Event{Type: TokenRefreshed, Risk: -5, UserAgent: strings.Repeat("x", 5000),
		Details: map[string]any{"refresh_token": "rt-secret", "nested": map[string]any{"Client_Secret": "s"}}}
	if err := m.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	fileBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"writer": buf.Bytes(), "file": fileBytes} {
		if bytes.Contains(b, []byte("rt-secret")) || bytes.Contains(b, []byte(`"s"`)) {
			t.Errorf("%s sink wrote a secret: %s", name, b)
		}
		got := parseLines(t, b)[0]
		if got.ID == "" || got.Risk != MinRisk || len(got.UserAgent) != maxFieldBytes {
			t.Errorf("%s sink wrote an unprepared event: id %q risk %d ua %d bytes", name, got.ID, got.Risk, len(got.UserAgent))
		}
	}
	if len(out.got) != 1 || out.got[0].Details["refresh_token"] != Redacted {
		t.Fatalf("outside recorder got %+v", out.got)
	}
}
