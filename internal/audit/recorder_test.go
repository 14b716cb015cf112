package audit

import (
	"bytes"
	"context"
	"errors"
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
