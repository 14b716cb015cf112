package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// MarshalText uses RFC 3339 nano and refuses years outside 0-9999,
	// which RFC 3339 cannot express and a reader could not parse back.
	ts, err := e.Time.UTC().MarshalText()
	if err != nil {
		return nil, fmt.Errorf("audit: event time: %w", err)
	}
	return json.Marshal(wireEvent{
		Time: string(ts), ID: e.ID, Type: e.Type, Risk: e.Risk,
		User: e.User, Session: e.Session, Client: e.Client, Provider: e.Provider,
		IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID,
		Details: e.Details,
	})
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
