package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// TestGoldenJSON pins the wire format (field names, order, time format,
// redaction) byte for byte: the golden file is one JSONL line exactly as a
// sink writes it and as the hash chain will hash it. Run `go test ./internal/audit -update` to accept a change, and
// treat that as a format migration: SIEM parsers and the hash chain read it.
func TestGoldenJSON(t *testing.T) {
	e, err := fullEvent().Prepare(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	got := append(mustCanonical(t, e), '\n')
	if want := golden(t, "event.golden.jsonl", got); !bytes.Equal(got, want) {
		t.Errorf("encoding changed:\ngot:  %s\nwant: %s", got, want)
	}
}

func TestCanonicalDeterministic(t *testing.T) {
	e, err := fullEvent().Prepare(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := mustCanonical(t, e)
	// Map iteration order is random in Go; many runs must still agree.
	for range 200 {
		if got := mustCanonical(t, e); !bytes.Equal(got, want) {
			t.Fatalf("non-deterministic:\n%s\n%s", got, want)
		}
	}
	// The same instant in another zone, and the same details inserted in
	// another order, encode identically.
	other := e
	other.Time = e.Time.In(time.FixedZone("X", -7*3600))
	other.Details = map[string]any{}
	keys := []string{"ttl_seconds", "upstream", "scopes", "resource", "refresh_token", "grace_reuse"}
	for _, k := range keys {
		other.Details[k] = e.Details[k]
	}
	if got := mustCanonical(t, other); !bytes.Equal(got, want) {
		t.Fatalf("zone or insertion order changed the bytes:\n%s\n%s", got, want)
	}
}

func TestCanonicalShape(t *testing.T) {
	b := mustCanonical(t, Event{Time: fixedTime, ID: "x", Type: KeyRotated})
	want := `{"time":"2026-03-14T15:26:53.589793238Z","id":"x","type":"key_rotated","risk":0}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestCanonicalRejectsUnrepresentableYear(t *testing.T) {
	e := Event{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Type: KeyRotated}
	if _, err := e.MarshalCanonical(); err == nil {
		t.Fatal("year 10000 encoded; RFC 3339 cannot express it")
	}
}

func TestRoundTrip(t *testing.T) {
	e, err := fullEvent().Prepare(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	b := mustCanonical(t, e)
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Time.Equal(fixedTime) || back.Time.Location() != time.UTC {
		t.Errorf("time %v, want %v in UTC", back.Time, fixedTime)
	}
	if back.ID != e.ID || back.Type != e.Type || back.UserAgent != e.UserAgent || back.Risk != e.Risk {
		t.Errorf("fields lost: %+v", back)
	}
	if got := mustCanonical(t, back); !bytes.Equal(got, b) {
		t.Errorf("re-encoding differs:\n%s\n%s", got, b)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for _, in := range []string{
		``, `null`, `{}`, `{"time":"yesterday"}`,
		`{"time":"2026-03-14T15:26:53Z"} {}`,
		`{"time":"2026-03-14T15:26:53Z","risk":"high"}`,
	} {
		var e Event
		if err := json.Unmarshal([]byte(in), &e); err == nil {
			t.Errorf("%q decoded", in)
		}
		if err := e.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%q decoded by UnmarshalJSON", in)
		}
	}
}

// FuzzUnmarshal feeds arbitrary bytes to the decoder a verifier will use
// on files an attacker may have edited. Oracle: whatever is accepted
// re-encodes canonically to a fixed point.
func FuzzUnmarshal(f *testing.F) {
	e, _ := fullEvent().Prepare(time.Time{})
	b, _ := e.MarshalCanonical()
	f.Add(b)
	f.Add([]byte(`{"time":"2026-03-14T15:26:53+01:00","id":"a","type":"x","risk":-3,"details":{"n":1e400}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e1 Event
		if err := e1.UnmarshalJSON(data); err != nil {
			return
		}
		b1, err := e1.MarshalCanonical()
		if err != nil {
			return // e.g. a zone offset pushed the year past 9999
		}
		var e2 Event
		if err := e2.UnmarshalJSON(b1); err != nil {
			t.Fatalf("canonical output does not decode: %v\n%s", err, b1)
		}
		b2, err := e2.MarshalCanonical()
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("not a fixed point (%v):\n%s\n%s", err, b1, b2)
		}
	})
}

func mustCanonical(t *testing.T, e Event) []byte {
	t.Helper()
	b, err := e.MarshalCanonical()
	if err != nil {
		t.Fatal(fmt.Errorf("MarshalCanonical: %w", err))
	}
	return b
}
