package audit

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestRedactSecretKeys(t *testing.T) {
	secret := []string{
		"access_token", "Refresh_Token", "id_token", "client_secret", "PASSWORD",
		"user_passwd", "code", "code_verifier", "auth_code", "client_assertion",
		"saml_assertion", "Set-Cookie", "cookie", "Authorization", "proxy-authorization",
		"credentials", "private_key",
	}
	kept := []string{"jti", "scopes", "reason", "family", "grant", "issuer", "status", "tool"}
	d := map[string]any{}
	for _, k := range append(secret, kept...) {
		d[k] = "value-of-" + k
	}
	e := prepared(t, Event{Type: TokenIssued, Details: d})
	for _, k := range secret {
		if e.Details[k] != Redacted {
			t.Errorf("%s = %v, want redacted", k, e.Details[k])
		}
	}
	for _, k := range kept {
		if e.Details[k] != "value-of-"+k {
			t.Errorf("%s = %v, want kept", k, e.Details[k])
		}
	}
	if d["access_token"] != "value-of-access_token" {
		t.Error("Record modified the caller's map")
	}
}

func TestRedactNested(t *testing.T) {
	type upstreamResp struct {
		Issuer       string `json:"issuer"`
		RefreshToken string `json:"refresh_token"`
	}
	e := prepared(t, Event{Type: LoginFailed, Details: map[string]any{
		"upstream": map[string]any{"id_token": "eyJ...", "issuer": "https://idp"},
		"attempts": []any{map[string]any{"password": "hunter2", "n": 1}},
		"response": upstreamResp{Issuer: "https://idp", RefreshToken: "rt"},
		"headers":  map[string]string{"Authorization": "Bearer x", "Accept": "*/*"},
		"secrets":  map[string]any{"anything": "inside"},
	}})
	b := string(mustCanonical(t, e))
	for _, leak := range []string{"eyJ", "hunter2", `"rt"`, "Bearer", "inside"} {
		if strings.Contains(b, leak) {
			t.Errorf("%q leaked: %s", leak, b)
		}
	}
	for _, keep := range []string{"https://idp", `"n":1`, `"Accept":"*/*"`} {
		if !strings.Contains(b, keep) {
			t.Errorf("%q lost: %s", keep, b)
		}
	}
}

func TestRedactIdempotent(t *testing.T) {
	once := prepared(t, fullEvent())
	twice := prepared(t, once)
	if a, b := mustCanonical(t, once), mustCanonical(t, twice); string(a) != string(b) {
		t.Fatalf("second Prepare changed the event:\n%s\n%s", a, b)
	}
}

// Bad values must cost the detail, never the event.
func TestDetailsThatJSONCannotEncode(t *testing.T) {
	loop := map[string]any{}
	loop["self"] = loop
	e := prepared(t, Event{Type: AdminAction, Details: map[string]any{
		"nan":  math.NaN(),
		"inf":  float32(math.Inf(1)),
		"ch":   make(chan int),
		"loop": loop,
		"big":  uint64(math.MaxUint64),
		"when": fixedTime,
	}})
	b := string(mustCanonical(t, e))
	for _, want := range []string{`"nan":"NaN"`, `"inf":"+Inf"`, `"ch":"[unencodable chan int]"`,
		`[too deep]`, `"big":18446744073709551615`, `"when":"2026-03-14T16:26:53.589793238+01:00"`} {
		if !strings.Contains(b, want) {
			t.Errorf("missing %s in %s", want, b)
		}
	}
	if !json.Valid([]byte(b)) {
		t.Fatal("invalid JSON")
	}
}

func TestPrepareFillsAndTruncates(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("A", 7200))
	long := strings.Repeat("é", maxFieldBytes) // 2 bytes each
	e := prepared(t, Event{Type: SessionCreated, UserAgent: long}, now)
	if !e.Time.Equal(now) || e.Time.Location() != time.UTC {
		t.Errorf("time %v, want %v in UTC", e.Time, now)
	}
	if len(e.UserAgent) > maxFieldBytes || !strings.HasPrefix(long, e.UserAgent) || len(e.UserAgent)%2 != 0 {
		t.Errorf("user agent truncated badly to %d bytes", len(e.UserAgent))
	}
	set := prepared(t, Event{Type: SessionCreated, Time: fixedTime, ID: "keep"}, now)
	if !set.Time.Equal(fixedTime) || set.ID != "keep" {
		t.Errorf("Prepare overwrote Time or ID: %v %q", set.Time, set.ID)
	}
}

func TestIDsAreUUIDv7SortedByTime(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		id := newID(base.Add(time.Duration(i) * time.Millisecond))
		if len(id) != 36 || id[14] != '7' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Fatalf("%s is not a UUIDv7", id)
		}
		if seen[id] || id <= prev {
			t.Fatalf("%s duplicate or out of order after %s", id, prev)
		}
		seen[id], prev = true, id
	}
	if got := newID(base)[:13]; got != "019b76da-a800" { // 2026-01-01 in Unix ms, hex
		t.Errorf("timestamp prefix %s", got)
	}
}

func prepared(t *testing.T, e Event, now ...time.Time) Event {
	t.Helper()
	at := fixedTime
	if len(now) > 0 {
		at = now[0]
	}
	p, err := e.Prepare(at)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
