package oauth_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/testenv"
)

// SPEC AS-7: dynamic registration is rate-limited per client IP. The
// eleventh registration in a burst is refused with 429 and Retry-After,
// audited, and stores nothing.
func TestRegisterIsRateLimited(t *testing.T) {
	g := testenv.New(t, testenv.Options{Driver: "memory"})
	body := `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","client_name":"x"}`
	post := func() *http.Response {
		resp, err := http.Post(g.URL+"/oauth/register", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 10 {
		if resp := post(); resp.StatusCode != http.StatusCreated {
			t.Fatalf("registration %d: %d, want 201", i+1, resp.StatusCode)
		}
	}
	before, err := g.Store().ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp := post()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("11th registration: %d, want 429", resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s <= 0 {
		t.Fatalf("Retry-After = %q, want a positive number of seconds", resp.Header.Get("Retry-After"))
	}
	after, _ := g.Store().ListClients(t.Context())
	if len(after) != len(before) {
		t.Fatalf("a refused registration stored a client: %d -> %d", len(before), len(after))
	}
	if !strings.Contains(g.Audit.String(), `"rate_limit_exceeded"`) {
		t.Fatal("no rate_limit_exceeded audit event")
	}
}
