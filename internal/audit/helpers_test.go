package audit

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// fixedTime has nanoseconds and a non-UTC zone, to show both survive
// encoding as RFC 3339 nano UTC.
var fixedTime = time.Date(2026, 3, 14, 16, 26, 53, 589793238, time.FixedZone("CET", 3600))

// fullEvent has every field set, nested details and a secret to redact.
func fullEvent() Event {
	return Event{
		Time:      fixedTime,
		ID:        "019ced3a-51ad-7d6e-8c1f-4b0f6c2a9e11",
		Type:      TokenRefreshed,
		User:      "00u1abcd2EFGH3ijk4l5",
		Session:   "fam_8Jq2",
		Client:    "https://client.example/cimd.json",
		IP:        "203.0.113.7",
		UserAgent: "claude-code/1.2 (linux)",
		Provider:  "okta",
		RequestID: "req-42",
		Risk:      35,
		Details: map[string]any{
			"scopes":        []string{"mcp:tools", "offline_access"},
			"resource":      "https://mcp.example/okta",
			"grace_reuse":   true,
			"refresh_token": "rt.must-not-appear",
			"upstream":      map[string]any{"issuer": "https://idp.example", "id_token": "eyJ.must.not"},
			"ttl_seconds":   3600,
		},
	}
}

// golden returns testdata/name, first rewriting it with got under -update.
func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return readGolden(t, name)
}

// readGolden returns testdata/name; only the test that owns a golden file
// rewrites it.
func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return want
}
