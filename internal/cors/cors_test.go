package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestPolicy: the allow-list echoes only a listed origin (lower-cased as
// browsers send it), answers Vary: Origin, refuses a foreign preflight
// with 403 and no allow headers, and lets a foreign real request through
// to the handler without CORS headers (the handler decides; the browser
// hides the answer). The public policy answers "*". No policy ever
// allows credentials.
func TestPolicy(t *testing.T) {
	listed := Policy{Origins: []string{"https://app.example"}, Methods: "GET, POST", AllowHeaders: "Authorization", ExposeHeaders: "Mcp-Session-Id"}
	public := Policy{Methods: "GET", AllowHeaders: "Content-Type"}
	for _, c := range []struct {
		name          string
		p             Policy
		method        string
		origins       []string
		status        int
		acao, methods string
		reached       bool
	}{
		{"listed real", listed, "POST", []string{"https://app.example"}, 200, "https://app.example", "", true},
		{"listed upper case", listed, "GET", []string{"HTTPS://APP.EXAMPLE"}, 200, "https://app.example", "", true},
		{"listed preflight", listed, "OPTIONS", []string{"https://app.example"}, 204, "https://app.example", "GET, POST", false},
		{"foreign real", listed, "POST", []string{"https://evil.example"}, 200, "", "", true},
		{"foreign preflight", listed, "OPTIONS", []string{"https://evil.example"}, 403, "", "", false},
		{"null origin preflight", listed, "OPTIONS", []string{"null"}, 403, "", "", false},
		{"two origins", listed, "OPTIONS", []string{"https://app.example", "https://evil.example"}, 403, "", "", false},
		{"no origin", listed, "POST", nil, 200, "", "", true},
		{"no origin OPTIONS", listed, "OPTIONS", nil, 204, "", "", false},
		{"public real", public, "GET", []string{"https://evil.example"}, 200, "*", "", true},
		{"public preflight", public, "OPTIONS", []string{"https://evil.example"}, 204, "*", "GET", false},
	} {
		reached := false
		h := c.p.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
		r := httptest.NewRequest(c.method, "/x", nil)
		for _, o := range c.origins {
			r.Header.Add("Origin", o)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		got := rec.Header()
		if rec.Code != c.status || got.Get("Access-Control-Allow-Origin") != c.acao ||
			got.Get("Access-Control-Allow-Methods") != c.methods || reached != c.reached {
			t.Errorf("%s: %d ACAO %q methods %q reached %v; want %d %q %q %v",
				c.name, rec.Code, got.Get("Access-Control-Allow-Origin"), got.Get("Access-Control-Allow-Methods"), reached,
				c.status, c.acao, c.methods, c.reached)
		}
		if got.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: credentials allowed", c.name)
		}
		if c.p.Origins != nil && got.Get("Vary") != "Origin" {
			t.Errorf("%s: Vary %q, want Origin", c.name, got.Get("Vary"))
		}
		if wantExpose := c.acao != "" && c.method != "OPTIONS" && c.p.ExposeHeaders != ""; wantExpose != (got.Get("Access-Control-Expose-Headers") != "") {
			t.Errorf("%s: Expose-Headers %q", c.name, got.Get("Access-Control-Expose-Headers"))
		}
	}
}
