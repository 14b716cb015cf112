package audit

import (
	"context"
	"io"
	"testing"
)

// toolCallEvent is the event the proxy records for every tools/call
// (SPEC PX-7): the hot path of SPEC PF-1.
func toolCallEvent() Event {
	return Event{
		Type: ToolCallAllowed, User: "alice", Session: "fam_8Jq2", Client: "https://client.example/cimd.json",
		Provider: "local", IP: "203.0.113.7", UserAgent: "Go-http-client/1.1", RequestID: "01JDQ3ZK5W7Y8X9V0T1S2R3Q4P",
		Details: map[string]any{
			"upstream": "files", "method": "tools/call", "tool": "search",
			"decision": "allow", "rule": -1, "reason": "",
			"arguments_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		},
	}
}

// BenchmarkRecordToolCall is one per-call event through the sinks the
// server builds by default: a metrics counter and a JSON-lines writer.
func BenchmarkRecordToolCall(b *testing.B) {
	rec := Multi(RecorderFunc(func(context.Context, Event) error { return nil }), NewWriterSink(io.Discard))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := rec.Record(ctx, toolCallEvent()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalCanonical(b *testing.B) {
	e, err := toolCallEvent().Prepare(fixedTime)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.MarshalCanonical(); err != nil {
			b.Fatal(err)
		}
	}
}
