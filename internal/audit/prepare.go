package audit

import (
	"crypto/rand"
	"encoding/hex"
	"time"
	"unicode/utf8"
)

// maxFieldBytes bounds each string field. User agents and similar values
// come from the client; unbounded, a few large headers per request would
// fill the audit disk (Go's default header limit is 1 MiB).
const maxFieldBytes = 1024

// Prepare returns e as it will be written: Time (UTC) and ID filled when
// empty, Risk clamped, long fields truncated, Details copied, normalised and
// redacted. It fails only for a type outside the catalogue. Every Recorder
// calls it; it is idempotent, so a fan-out can prepare once and let each
// sink prepare again without changing the event.
func (e Event) Prepare(now time.Time) (Event, error) {
	if !e.Type.Valid() {
		return Event{}, e.Validate()
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC() // also strips the monotonic reading
	if e.ID == "" {
		e.ID = newID(e.Time)
	}
	e.Risk = ClampRisk(e.Risk)
	e.truncateFields()
	e.Details = scrubDetails(e.Details)
	return e, nil
}

func (e *Event) truncateFields() {
	for _, f := range []*string{&e.ID, &e.User, &e.Session, &e.Client, &e.IP, &e.UserAgent, &e.Provider, &e.RequestID} {
		*f = truncate(*f, maxFieldBytes)
	}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// newID returns a UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds
// then 74 random bits. IDs sort by time as strings, which keeps store
// indexes append-mostly, and the random part makes them unguessable and
// collision-free across instances without coordination.
func newID(t time.Time) string {
	var u [16]byte
	rand.Read(u[6:]) // never fails (crypto/rand, Go 1.24+)
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return formatUUID(u)
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
