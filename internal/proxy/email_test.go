package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// emailUpstream answers every JSON-RPC request with an empty result and
// remembers the X-Email header of the last request it received.
type emailUpstream struct {
	*httptest.Server
	mu       sync.Mutex
	got      []string
	received bool
}

func newEmailUpstream(t *testing.T) *emailUpstream {
	u := &emailUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			ID json.RawMessage `json:"id"`
		}
		json.NewDecoder(r.Body).Decode(&msg)
		u.mu.Lock()
		u.got, u.received = r.Header.Values("X-Email"), true
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{}}`)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *emailUpstream) lastEmail(t *testing.T) []string {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.received {
		t.Fatal("the upstream received no request")
	}
	return u.got
}

// emailGateway fronts up with the files upstream, its email identity
// header X-Email, and tools as its per-tool rules.
func emailGateway(t *testing.T, up *emailUpstream, tools []config.ToolRule) *testenv.Gateway {
	return testenv.New(t, testenv.Options{Mutate: func(c *config.Config) {
		c.Upstreams[0].URL = up.URL
		c.Upstreams[0].IdentityHeaders = config.IdentityHeaders{Email: "X-Email"}
		c.Upstreams[0].Tools = tools
	}})
}

// emailToolCall posts a tools/call of tool with token and returns the
// status and body.
func emailToolCall(t *testing.T, g *testenv.Gateway, token, tool string) (int, string) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
	req, err := http.NewRequest(http.MethodPost, g.URL+testenv.FilesPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func emailToken(t *testing.T, g *testenv.Gateway, user string) string {
	t.Helper()
	_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, user)
	return rep.Get("access_token")
}

// SPEC PX-8: the verified email Alice logged in with travels in her
// access token, so the gateway can send it to a trusted upstream in the
// configured identity header. (The local provider vouches for the email
// the operator configured.)
func TestEmailIdentityHeaderFromToken(t *testing.T) {
	t.Parallel()
	up := newEmailUpstream(t)
	g := emailGateway(t, up, nil)
	if status, body := emailToolCall(t, g, emailToken(t, g, testenv.Alice), "echo"); status != http.StatusOK {
		t.Fatalf("tools/call: %d %s", status, body)
	}
	if got := up.lastEmail(t); len(got) != 1 || got[0] != "alice@example.com" {
		t.Fatalf("upstream X-Email = %q, want exactly alice@example.com", got)
	}
}

// SPEC PX-7: a users rule may name a verified email. The email comes from
// the token, so a rule naming Alice's admits her, and one naming another
// address refuses her with 403 (a failed users rule is no scope problem).
func TestEmailUsersRuleFromToken(t *testing.T) {
	t.Parallel()
	up := newEmailUpstream(t)
	g := emailGateway(t, up, []config.ToolRule{
		{Match: "mine", Users: []string{"alice@example.com"}},
		{Match: "theirs", Users: []string{"bob@example.com"}},
	})
	alice := emailToken(t, g, testenv.Alice)
	if status, body := emailToolCall(t, g, alice, "mine"); status != http.StatusOK {
		t.Fatalf("rule naming alice@example.com: %d %s", status, body)
	}
	status, body := emailToolCall(t, g, alice, "theirs")
	if status != http.StatusForbidden || strings.Contains(body, "insufficient_scope") {
		t.Fatalf("rule naming another email: %d %s, want 403 without insufficient_scope", status, body)
	}
}
