package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestAllowMCPBatchCostsEachCall: a request calling N tools costs N of
// mcp_user, so a batch cannot multiply the per-user limit; a request
// calling none costs one.
func TestAllowMCPBatchCostsEachCall(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := &Guard{
		Limits:  Limits{MCPUser: Limit{Name: "mcp_user", Burst: 10, Every: time.Hour}, MCPUserTool: Limit{Name: "mcp_user_tool", Burst: 100, Every: time.Hour}},
		Limiter: &Memory{Now: func() time.Time { return now }},
	}
	allow := func(tools ...string) bool {
		return g.AllowMCP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/mcp/files", nil), "files", "local:alice", len(tools), tools)
	}
	batch := make([]string, 9)
	for i := range batch {
		batch[i] = "search"
	}
	if !allow(batch...) {
		t.Fatal("a batch of 9 calls within a burst of 10 refused")
	}
	if !allow() {
		t.Fatal("the 10th unit refused")
	}
	if allow("search") {
		t.Fatal("an 11th call allowed: the batch of 9 cost less than 9")
	}
}

// TestAllowMCPBatchCostsEachMessage: every request or notification in a
// batch costs one unit of mcp_user, whatever its method, so a batch of
// resources/read or tools/list cannot multiply the per-user limit either.
func TestAllowMCPBatchCostsEachMessage(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := &Guard{
		Limits:  Limits{MCPUser: Limit{Name: "mcp_user", Burst: 10, Every: time.Hour}, MCPUserTool: Limit{Name: "mcp_user_tool", Burst: 100, Every: time.Hour}},
		Limiter: &Memory{Now: func() time.Time { return now }},
	}
	allow := func(messages int, tools ...string) bool {
		return g.AllowMCP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/mcp/files", nil), "files", "local:alice", messages, tools)
	}
	if !allow(8, "search") { // a batch of 7 reads and one tool call
		t.Fatal("a batch of 8 within a burst of 10 refused")
	}
	if !allow(2) {
		t.Fatal("units 9 and 10 refused")
	}
	if allow(1) {
		t.Fatal("an 11th message allowed: the batch of 8 cost less than 8")
	}
}

// TestBoundedTool: an audit record quotes at most 256 bytes of a tool
// name, cut on a UTF-8 boundary, plus the SHA-256 of the whole name, so
// two long names with one prefix stay apart.
func TestBoundedTool(t *testing.T) {
	short := strings.Repeat("a", maxAuditTool)
	if boundedTool(short) != short {
		t.Fatal("a name of 256 bytes was changed")
	}
	long := strings.Repeat("é", 300) // 600 bytes, 2-byte runes
	got := boundedTool(long)
	sum := sha256.Sum256([]byte(long))
	prefix, hash, ok := strings.Cut(got, "…sha256:")
	if !ok || hash != hex.EncodeToString(sum[:]) || len(prefix) > maxAuditTool || !strings.HasPrefix(long, prefix) || !utf8.ValidString(got) {
		t.Fatalf("boundedTool(600 bytes) = %q", got)
	}
	if boundedTool(long) == boundedTool(long+"x") {
		t.Fatal("two long names with one prefix quote alike")
	}
}
