package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Redacted replaces the value of every Details key that looks secret.
const Redacted = "[redacted]"

// secretMarkers are matched case-insensitively as substrings of Details
// keys, at every depth. The list errs towards redacting: a key such as
// "status_code" loses its value too, which is cheap to fix by renaming,
// whereas a leaked refresh token in a log shipped to a SIEM is not.
var secretMarkers = []string{
	"token", "secret", "password", "passwd", "code", "assertion",
	"cookie", "authorization", "credential", "private",
}

// scrubDetails returns a redacted, normalised copy of d.
//
// This is a backstop, not the control. The control is that code emitting
// events never puts a secret in them (SPEC AU-1: "never a secret"); review
// and tests of each emitter enforce that. The backstop exists because one
// careless `"refresh_token": rt` would otherwise write a live credential to
// every sink, including ones shipped off the host, and because key names
// are the only signal available here. It cannot catch a secret under an
// innocent key, nor one in a top-level field.
func scrubDetails(d map[string]any) map[string]any {
	if d == nil {
		return nil
	}
	return scrubMap(d, 0)
}

// maxDepth bounds recursion into Details. Beyond it values are dropped: a
// map that contains itself would otherwise overflow the stack and take the
// whole gateway down.
const maxDepth = 32

// secretKey reports whether a Details key looks secret. The answer for a
// key is remembered: emitters use a few fixed keys, and the proxy records
// an event per tool call (SPEC PF-1), where ten substring searches per key
// showed. Keys can come from data too (a normalised struct or map), so at
// most maxKnownKeys answers are kept; past that, keys are checked afresh.
func secretKey(k string) bool {
	if v, ok := knownKeys.Load(k); ok {
		return v.(bool)
	}
	secret := isSecretKey(k)
	if knownKeyCount.Load() < maxKnownKeys && len(k) <= 64 {
		if _, loaded := knownKeys.LoadOrStore(k, secret); !loaded {
			knownKeyCount.Add(1)
		}
	}
	return secret
}

const maxKnownKeys = 1024

var (
	knownKeys     sync.Map // Details key -> isSecretKey(key)
	knownKeyCount atomic.Int64
)

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, m := range secretMarkers {
		if strings.Contains(k, m) {
			return true
		}
	}
	return false
}

// scrubMap copies m: the caller's map is never modified, since it may be
// shared or reused after Record returns.
func scrubMap(m map[string]any, depth int) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if secretKey(k) {
			out[k] = Redacted
			continue
		}
		out[k] = scrubValue(v, depth+1)
	}
	return out
}

func scrubValue(v any, depth int) any {
	if depth > maxDepth {
		return "[too deep]"
	}
	switch x := v.(type) {
	case nil, string, bool, json.Number,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return x
	case float64:
		return finite(x)
	case float32:
		return finite(float64(x))
	case map[string]any:
		return scrubMap(x, depth)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = scrubValue(e, depth+1)
		}
		return out
	default:
		// Structs, typed maps and slices: redaction must see their keys,
		// so turn them into the plain values above first.
		return scrubValue(normalise(x), depth)
	}
}

// finite keeps NaN and ±Inf, which JSON cannot encode, from making the
// whole event unencodable; they become strings.
func finite(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return f
}

// normalise round-trips v through JSON, yielding only nil, bool, string,
// json.Number (exact, unlike float64), []any and map[string]any. A value
// JSON cannot encode is replaced by a marker rather than failing Record:
// losing a security event over a bad detail is worse than losing the detail.
func normalise(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("[unencodable %T]", v)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return fmt.Sprintf("[unencodable %T]", v)
	}
	return out
}
