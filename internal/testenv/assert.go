package testenv

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// Clock is a settable clock for Options.Now: a test advances it instead of
// sleeping, and every part of the gateway sees the same time.
type Clock = clock.Clock

// NewClock returns a clock standing at start.
func NewClock(start time.Time) *Clock { return clock.New(start) }

// AuditEvent is one audit record as the gateway wrote it (JSON lines).
type AuditEvent struct {
	Type      string         `json:"type"`
	Risk      int            `json:"risk"`
	User      string         `json:"user"`
	Client    string         `json:"client"`
	Provider  string         `json:"provider"`
	IP        string         `json:"ip"`
	RequestID string         `json:"request_id"`
	Details   map[string]any `json:"details"`
}

// AuditEvents returns the audit records of type typ written so far, oldest
// first; every record when typ is "".
func (g *Gateway) AuditEvents(typ string) []AuditEvent {
	g.T.Helper()
	var out []AuditEvent
	for line := range strings.Lines(g.Audit.String()) {
		var e AuditEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			g.T.Fatalf("audit line is not JSON: %v\n%s", err, line)
		}
		if typ == "" || e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// JWTPayload decodes the claims of a compact JWS without verifying it: for
// asserting what the gateway put in a token it issued.
func JWTPayload(t testing.TB, token string) map[string]any {
	t.Helper()
	return jwsPart(t, token, 1, "payload")
}

// jwsPart decodes part i (0 header, 1 payload) of a compact JWS as JSON.
func jwsPart(t testing.TB, token string, i int, what string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("JWS %s: %v", what, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("JWS %s: %v", what, err)
	}
	return m
}

// StartFlow sends the authorization request params and returns the ID of
// the pending authorization from the redirect to the consent step. It fails
// the test on any other answer.
func (b *Browser) StartFlow(params url.Values) string {
	b.T.Helper()
	resp := b.Get("/oauth/authorize?" + params.Encode())
	loc := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != "/oauth/consent" {
		b.T.Fatalf("authorize: want 302 to /oauth/consent, got %d %v\n%s", resp.StatusCode, loc, resp.Body)
	}
	id := loc.Query().Get("req")
	if id == "" {
		b.T.Fatalf("authorize: no req in %s", loc)
	}
	return id
}

// SubmitConsent posts the consent form with action "approve" or "deny".
func (b *Browser) SubmitConsent(reqID, action string) Response {
	b.T.Helper()
	return b.Post("/oauth/consent", url.Values{"req": {reqID}, "action": {action}})
}

// SubmitLogin posts the local login form.
func (b *Browser) SubmitLogin(reqID, username, password string) Response {
	b.T.Helper()
	return b.Post("/oauth/login", url.Values{
		"req": {reqID}, "provider": {"local"}, "username": {username}, "password": {password},
	})
}

// Cookie returns the value of the browser's cookie name for the gateway,
// or "".
func (b *Browser) Cookie(name string) string {
	b.T.Helper()
	u, _ := url.Parse(b.G.URL)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// SetCookie puts a cookie for the gateway into the browser's jar (a
// planted or copied cookie).
func (b *Browser) SetCookie(name, value string) {
	u, _ := url.Parse(b.G.URL)
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// ClientRedirect returns the query of resp's redirect back to the client
// at redirectURI. It fails unless resp answers status and its Location is
// redirectURI exactly, plus a query.
func ClientRedirect(t testing.TB, resp Response, status int, redirectURI string) url.Values {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != status {
		t.Fatalf("want %d to %s, got %d (Location %q)\n%s", status, redirectURI, resp.StatusCode, loc, resp.Body)
	}
	base, query, _ := strings.Cut(loc, "?")
	if base != redirectURI {
		t.Fatalf("redirected to %q, want %s", loc, redirectURI)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatalf("redirect query %q: %v", query, err)
	}
	return q
}

// RequireErrorPage fails unless resp is an HTML error page with status and
// no redirect: errors about the client or the redirect URI must never send
// the browser anywhere (RFC 6749 §4.1.2.1).
func RequireErrorPage(t testing.TB, resp Response, status int) {
	t.Helper()
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Fatalf("want an error page, got a redirect (%d) to %s", resp.StatusCode, loc)
	}
	if resp.StatusCode != status {
		t.Fatalf("want status %d, got %d\n%s", status, resp.StatusCode, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("error page Content-Type %q, want text/html", ct)
	}
}
