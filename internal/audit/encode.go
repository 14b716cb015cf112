package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// wireEvent is the JSON shape of an Event. Its field order is the order in
// the encoding, and the names are a stable interface: SIEM parsers and the
// hash chain depend on them (testdata/event.golden.json pins them). Change
// them only with a migration.
type wireEvent struct {
	Time      string         `json:"time"`
	ID        string         `json:"id"`
	Type      EventType      `json:"type"`
	Risk      int            `json:"risk"`
	User      string         `json:"user,omitempty"`
	Session   string         `json:"session,omitempty"`
	Client    string         `json:"client,omitempty"`
	Provider  string         `json:"provider,omitempty"`
	IP        string         `json:"ip,omitempty"`
	UserAgent string         `json:"user_agent,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// MarshalCanonical encodes e deterministically: the same event always gives
// the same bytes, so a hash over them (SPEC AU-2) can be recomputed.
//
//   - fields in wireEvent order; empty optional fields omitted (an absent
//     and an empty field mean the same, so there is one spelling);
//   - Time as RFC 3339 with nanoseconds in UTC, whatever e.Time's zone;
//   - map keys sorted at every depth (encoding/json does this);
//   - no insignificant whitespace, no trailing newline.
//
// A verifier must hash the stored bytes, not a re-encoding: values decoded
// from JSON (numbers, invalid UTF-8) need not re-encode to the same bytes as
// the Go values that first produced them.
func (e Event) MarshalCanonical() ([]byte, error) {
	return e.appendCanonical(make([]byte, 0, 512))
}

// appendCanonical appends the canonical encoding of e to dst.
//
// It writes wireEvent by hand rather than through encoding/json's
// reflection: the proxy records an event for every tool call (SPEC PX-7),
// so this runs on the hot path of SPEC PF-1, where reflection cost more
// than the rest of the audit step together. Every value whose encoding is
// not trivially the same (a string needing any escape, a float, a
// json.Number, any other type) is handed to encoding/json itself, so the
// bytes stay exactly encoding/json's: TestCanonicalMatchesEncodingJSON and
// FuzzCanonicalMatchesEncodingJSON hold the two to the same output.
func (e Event) appendCanonical(dst []byte) ([]byte, error) {
	// MarshalText uses RFC 3339 nano and refuses years outside 0-9999,
	// which RFC 3339 cannot express and a reader could not parse back.
	var tsBuf [64]byte
	ts, err := e.Time.UTC().AppendText(tsBuf[:0])
	if err != nil {
		return nil, fmt.Errorf("audit: event time: %w", err)
	}
	dst = append(dst, `{"time":`...)
	dst = appendJSONString(dst, string(ts))
	dst = append(dst, `,"id":`...)
	dst = appendJSONString(dst, e.ID)
	dst = append(dst, `,"type":`...)
	dst = appendJSONString(dst, string(e.Type))
	dst = append(dst, `,"risk":`...)
	dst = strconv.AppendInt(dst, int64(e.Risk), 10)
	for _, f := range [...]struct{ name, v string }{
		{`,"user":`, e.User}, {`,"session":`, e.Session}, {`,"client":`, e.Client},
		{`,"provider":`, e.Provider}, {`,"ip":`, e.IP}, {`,"user_agent":`, e.UserAgent},
		{`,"request_id":`, e.RequestID},
	} {
		if f.v != "" { // omitempty
			dst = append(dst, f.name...)
			dst = appendJSONString(dst, f.v)
		}
	}
	if len(e.Details) > 0 { // omitempty: nil and empty maps are left out
		dst = append(dst, `,"details":`...)
		if dst, err = appendJSONValue(dst, e.Details); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// appendJSONValue appends v as encoding/json would encode it.
func appendJSONValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		// encoding/json sorts map keys as plain strings.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSONValue(dst, x[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONValue(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("audit: encode event: %w", err)
		}
		return append(dst, b...), nil
	}
}

// plainJSON marks the bytes encoding/json copies into a string unchanged:
// printable ASCII but the quote, the backslash and the HTML characters.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range `"\\<>&` {
		t[c] = false
	}
	return t
}()

// appendJSONString appends s quoted. Printable ASCII other than the
// characters encoding/json escapes (quote, backslash, and <, >, & for
// HTML safety) is copied as it is; anything else goes through
// encoding/json, whose escaping rules (control characters, invalid UTF-8,
// U+2028/U+2029) are then the only ones in force.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainJSON[s[i]] {
			b, _ := json.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// MarshalJSON is MarshalCanonical: an event has one wire format, so a line
// in the JSONL file and the Data of a store record are the same bytes.
func (e Event) MarshalJSON() ([]byte, error) { return e.MarshalCanonical() }

// UnmarshalJSON decodes an event as written by MarshalJSON. It does not
// validate (a verifier must be able to read a record with a bad type and
// report it); numbers in Details decode as json.Number so they keep their
// exact text.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("audit: decode event: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("audit: decode event: data after the object")
	}
	var ev Event
	if err := ev.Time.UnmarshalText([]byte(w.Time)); err != nil {
		return fmt.Errorf("audit: decode event time: %w", err)
	}
	ev.Time = ev.Time.UTC()
	ev.ID, ev.Type, ev.Risk = w.ID, w.Type, w.Risk
	ev.User, ev.Session, ev.Client, ev.Provider = w.User, w.Session, w.Client, w.Provider
	ev.IP, ev.UserAgent, ev.RequestID, ev.Details = w.IP, w.UserAgent, w.RequestID, w.Details
	*e = ev
	return nil
}
