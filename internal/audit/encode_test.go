package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
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

// referenceCanonical is the canonical encoding by encoding/json's
// reflection, as MarshalCanonical first produced it: the oracle the
// hand-written encoder must match byte for byte.
func referenceCanonical(e Event) ([]byte, error) {
	ts, err := e.Time.UTC().MarshalText()
	if err != nil {
		return nil, err
	}
	return json.Marshal(wireEvent{
		Time: string(ts), ID: e.ID, Type: e.Type, Risk: e.Risk,
		User: e.User, Session: e.Session, Client: e.Client, Provider: e.Provider,
		IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID,
		Details: e.Details,
	})
}

// checkSameAsReference fails t unless MarshalCanonical and encoding/json
// agree on e, including on whether it encodes at all.
func checkSameAsReference(t *testing.T, e Event) {
	t.Helper()
	got, gotErr := e.MarshalCanonical()
	want, wantErr := referenceCanonical(e)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("error %v, encoding/json's %v", gotErr, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("bytes differ from encoding/json:\ngot  %s\nwant %s", got, want)
	}
}

func TestCanonicalMatchesEncodingJSON(t *testing.T) {
	full, err := fullEvent().Prepare(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	tricky := "<a href=\"x\">&amp;</a>\\ \x00\x01\b\f\n\r\t\x1f\x7f é \u2028\u2029 \xff\xfe end"
	cases := map[string]Event{
		"full":       full,
		"minimal":    {Time: fixedTime, ID: "x", Type: KeyRotated},
		"empty map":  {Time: fixedTime, Type: KeyRotated, Details: map[string]any{}},
		"tool call":  toolCallEvent(),
		"escapes":    {Time: fixedTime, ID: tricky, Type: EventType(tricky), User: tricky, UserAgent: tricky, Details: map[string]any{tricky: tricky}},
		"negative":   {Time: fixedTime, Type: KeyRotated, Risk: -3},
		"zero time":  {Type: KeyRotated},
		"bad year":   {Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Type: KeyRotated},
		"bad number": {Time: fixedTime, Type: KeyRotated, Details: map[string]any{"n": json.Number("1x")}},
		"nan":        {Time: fixedTime, Type: KeyRotated, Details: map[string]any{"f": math.NaN()}},
		"values": {Time: fixedTime, Type: KeyRotated, Details: map[string]any{
			"nil": nil, "t": true, "f": false, "i": -7, "i64": int64(math.MinInt64), "u8": uint8(255),
			"f64": 1e21, "small": 1e-7, "f32": float32(0.1), "num": json.Number("12.50"),
			"nilmap": map[string]any(nil), "nilslice": []any(nil), "empty": []any{},
			"nested": map[string]any{"b": []any{1, "x", map[string]any{"z": 1, "a": nil}}, "a": "<>"},
			"strs":   []string{"a", "<"}, "struct": struct{ A int }{1}, "": "empty key",
		}},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) { checkSameAsReference(t, e) })
	}
}

// FuzzCanonicalMatchesEncodingJSON holds the hand-written encoder to
// encoding/json's bytes for any strings in every field and in details.
func FuzzCanonicalMatchesEncodingJSON(f *testing.F) {
	f.Add("alice", "Go-http-client/1.1", "tool", "search", int64(3), 0.5)
	f.Add("<script>", "\u2028\xff\"\\", "\x00", "é&", int64(-1), 1e300)
	f.Fuzz(func(t *testing.T, user, ua, key, val string, n int64, fl float64) {
		e := Event{Time: fixedTime.Add(time.Duration(n)), ID: val, Type: EventType(key), User: user, UserAgent: ua,
			Risk: int(n % 1000), Details: map[string]any{
				key: val, "n": n, "f": fl, "list": []any{val, n, map[string]any{user: ua}}, user: map[string]any{ua: key},
			}}
		checkSameAsReference(t, e)
	})
}
