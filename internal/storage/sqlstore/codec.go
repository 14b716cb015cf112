package sqlstore

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Column encodings, the same in both dialects:
//   - time.Time: BIGINT Unix nanoseconds, 0 for the zero time ("never").
//     Integers compare correctly in SQL (expiry checks, ordering) and need
//     no time zone handling.
//   - []string: TEXT holding JSON; nil is "null" and empty is "[]", so a
//     record reads back exactly as it was written.
//   - []byte: BLOB / BYTEA; nil is NULL and empty is a zero-length value.

var (
	// minTime and maxTime bound what fits in int64 nanoseconds. A time
	// outside is clamped rather than wrapped: a caller writing year 9999 as
	// "far future" must not get a lease or session that looks long expired.
	minTime = time.Unix(0, math.MinInt64+1).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// nanos encodes t.
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minTime):
		return math.MinInt64 + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// asStored is t as it reads back once stored. The zero time and the Unix
// epoch both encode as 0, the column value for "never", "unused" and "not
// revoked", and read back as the zero time, so the storage.Check helpers
// see the epoch for what it would become: a now that marks nothing.
func asStored(t time.Time) time.Time { return fromNanos(nanos(t)) }

// fromNanos decodes what nanos encoded, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// jsonText encodes ss.
func jsonText(ss []string) string {
	b, err := json.Marshal(ss)
	if err != nil { // cannot happen for []string
		panic(err)
	}
	return string(b)
}

// timeCol scans a nanos column into a time.Time.
type timeCol struct{ dst *time.Time }

func (c timeCol) Scan(src any) error {
	n, ok := src.(int64)
	if !ok {
		return fmt.Errorf("time column: got %T, want int64", src)
	}
	*c.dst = fromNanos(n)
	return nil
}

// jsonCol scans a JSON text column into a []string.
type jsonCol struct{ dst *[]string }

func (c jsonCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("JSON column: got %T, want text", src)
	}
	*c.dst = nil
	return json.Unmarshal(b, c.dst)
}

// blobCol scans a BLOB/BYTEA column into a []byte, keeping NULL (nil) and
// zero-length (empty, non-nil) apart. The SQLite driver reports a
// zero-length blob as a nil []byte, so the type of src, not its value, tells
// the two apart.
type blobCol struct{ dst *[]byte }

func (c blobCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.dst = nil
	case []byte:
		*c.dst = append([]byte{}, v...)
	case string:
		*c.dst = []byte(v)
	default:
		return fmt.Errorf("blob column: got %T, want bytes", src)
	}
	return nil
}

// boolCol scans a BOOLEAN column: PostgreSQL returns bool, SQLite int64.
type boolCol struct{ dst *bool }

func (c boolCol) Scan(src any) error {
	switch v := src.(type) {
	case bool:
		*c.dst = v
	case int64:
		*c.dst = v != 0
	default:
		return fmt.Errorf("boolean column: got %T, want bool", src)
	}
	return nil
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
