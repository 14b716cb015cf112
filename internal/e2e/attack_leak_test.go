package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// recordingTB captures a helper's failures instead of failing the test.
type recordingTB struct {
	testing.TB
	failed []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

// TestAttackLeakDetector proves that requireNoLeak, which every attack
// applies to every response, catches each kind of leak in a body and in
// a header, and passes the gateway's real error shapes.
func TestAttackLeakDetector(t *testing.T) {
	const secret = "s3cr3t-seal-key-value"
	const upstream = "127.0.0.1:49152"
	leaky := map[string]string{
		"runtime error":    "runtime error: invalid memory address or nil pointer dereference",
		"panic":            "panic: assignment to entry in nil map",
		"goroutine":        "goroutine 17 [running]:\nmain.main()",
		"file path":        "/work/mcpgate/internal/oauth/token.go:123 +0x1d",
		"sql":              "sql: no rows in result set",
		"pq":               "pq: duplicate key value violates unique constraint",
		"sqlstate":         "ERROR: relation \"grants\" does not exist (SQLSTATE 42P01)",
		"sqlite":           "SQLITE_BUSY: database is locked (sqlite3)",
		"redis":            "redis: connection pool timeout",
		"dial tcp":         "dial tcp 10.0.3.7:5432: connect: connection refused",
		"conn refused":     "connect: connection refused",
		"deadline":         "context deadline exceeded",
		"fmt verb":         "bad value %!s(<nil>)",
		"secret":           `{"key":"` + secret + `"}`,
		"upstream address": "upstream http://" + upstream + "/mcp failed",
	}
	for name, text := range leaky {
		t.Run(name, func(t *testing.T) {
			for _, where := range []string{"body", "header"} {
				rec := &recordingTB{TB: t}
				h, body := http.Header{}, ""
				if where == "body" {
					body = `{"error":"server_error","error_description":"` + text + `"}`
				} else {
					h.Set("X-Debug", strings.ReplaceAll(text, "\n", " "))
				}
				requireNoLeak(rec, h, body, secret, upstream)
				if len(rec.failed) != 1 {
					t.Errorf("%s in the %s: requireNoLeak reported %d failures, want 1", name, where, len(rec.failed))
				}
			}
		})
	}
	t.Run("clean responses pass", func(t *testing.T) {
		for _, body := range []string{
			`{"error":"invalid_grant","error_description":"The authorization code is invalid or has expired.","request_id":"01J9ZK"}`,
			`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid JSON-RPC message"}}`,
			"<!doctype html><title>Error</title><p>This application is not registered.</p>",
		} {
			rec := &recordingTB{TB: t}
			requireNoLeak(rec, http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {`Bearer error="invalid_token"`}}, body, secret, upstream)
			if len(rec.failed) != 0 {
				t.Errorf("a clean response was reported: %v", rec.failed)
			}
		}
	})
	t.Run("empty secret ignored", func(t *testing.T) {
		if got := leaks(nil, "anything", ""); len(got) != 0 {
			t.Fatalf("an empty secret matched: %v", got)
		}
	})
}
