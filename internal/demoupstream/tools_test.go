package demoupstream

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEcho(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	res := callToolResult(t, cs, "echo", map[string]any{"text": "hello, gateway"})
	if res.IsError || textOf(res) != "hello, gateway" {
		t.Errorf("echo = %q (IsError %v), want the text back", textOf(res), res.IsError)
	}
	if out := callTool[echoOut](t, cs, "echo", map[string]any{"text": "x"}); out.Text != "x" {
		t.Errorf("structured echo = %q, want x", out.Text)
	}
}

func TestAdd(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	if out := callTool[addOut](t, cs, "add", map[string]any{"a": 2, "b": 0.5}); out.Sum != 2.5 {
		t.Errorf("add(2, 0.5) = %v, want 2.5", out.Sum)
	}
}

func TestAddRejectsMissingArgument(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	if res := callToolResult(t, cs, "add", map[string]any{"a": 1}); !res.IsError {
		t.Errorf("add without b succeeded: %q", textOf(res))
	}
}

func TestCurrentTime(t *testing.T) {
	cs := newTestSession(t, handler(func() time.Time { return fixedNow }), nil)
	tests := []struct {
		zone, want string
	}{
		{"", "2026-03-01T12:00:00Z"},
		{"UTC", "2026-03-01T12:00:00Z"},
		{"Asia/Tokyo", "2026-03-01T21:00:00+09:00"},
		{"America/New_York", "2026-03-01T07:00:00-05:00"},
	}
	for _, tt := range tests {
		out := callTool[timeOut](t, cs, "current_time", map[string]any{"timezone": tt.zone})
		if out.Time != tt.want {
			t.Errorf("current_time(%q) = %s, want %s", tt.zone, out.Time, tt.want)
		}
	}
}

func TestCurrentTimeRealClock(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	out := callTool[timeOut](t, cs, "current_time", map[string]any{"timezone": "Europe/Paris"})
	got, err := time.Parse(time.RFC3339, out.Time)
	if err != nil {
		t.Fatalf("current_time = %q, not RFC 3339: %v", out.Time, err)
	}
	if _, offset := got.Zone(); offset != 3600 && offset != 7200 {
		t.Errorf("current_time in Europe/Paris has offset %ds, want +1h or +2h", offset)
	}
}

func TestCurrentTimeBadZone(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	for _, zone := range []string{"Mars/Olympus_Mons", "Local", "../../etc/passwd"} {
		res := callToolResult(t, cs, "current_time", map[string]any{"timezone": zone})
		if !res.IsError || !strings.Contains(textOf(res), "unknown time zone") {
			t.Errorf("current_time(%q) = %q (IsError %v), want a tool error", zone, textOf(res), res.IsError)
		}
	}
}

func TestWhoami(t *testing.T) {
	header := http.Header{}
	header.Set(SubjectHeader, "local:alice")
	header.Set(GroupsHeader, "admins,dev")
	cs := newTestSession(t, Handler(), header)
	out := callTool[whoamiOut](t, cs, "whoami", nil)
	if out.Headers[SubjectHeader] != "local:alice" || out.Headers[GroupsHeader] != "admins,dev" {
		t.Errorf("whoami headers = %v, want subject and groups", out.Headers)
	}
	if _, ok := out.Headers[EmailHeader]; ok || out.Note != "" {
		t.Errorf("whoami = %+v, want no email and no note", out)
	}
}

func TestWhoamiWithoutHeaders(t *testing.T) {
	cs := newTestSession(t, Handler(), nil)
	out := callTool[whoamiOut](t, cs, "whoami", nil)
	if len(out.Headers) != 0 || !strings.Contains(out.Note, "no identity headers") {
		t.Errorf("whoami = %+v, want no headers and a note saying so", out)
	}
}

func TestResetCounter(t *testing.T) {
	h := Handler()
	cs := newTestSession(t, h, nil)
	callTool[echoOut](t, cs, "echo", map[string]any{"text": "a"})
	callToolResult(t, cs, "current_time", map[string]any{"timezone": "Nowhere/Else"})
	if out := callTool[resetOut](t, cs, AdminTool, nil); out.Previous != 3 {
		t.Errorf("first reset: previous = %d, want 3 (echo, the failed call, the reset)", out.Previous)
	}
	// A second session shares the counter: the admin tool acts server-wide.
	other := newTestSession(t, h, nil)
	callTool[addOut](t, other, "add", map[string]any{"a": 1, "b": 1})
	if out := callTool[resetOut](t, cs, AdminTool, nil); out.Previous != 2 {
		t.Errorf("second reset: previous = %d, want 2 (the other session's add, the reset)", out.Previous)
	}
}
