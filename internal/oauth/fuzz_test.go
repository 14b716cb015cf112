package oauth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/clientmeta"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// FuzzAuthorize sends arbitrary query strings to the authorization
// endpoint. Oracle (SPEC AS-2, AS-10): it never answers 500; a redirect
// either stays on the gateway (the consent step) or goes to a redirect URI
// registered for the client the request names, with iss set; an error
// about the client or the redirect URI is never redirected.
func FuzzAuthorize(f *testing.F) {
	g := testenv.New(f, testenv.Options{Driver: "memory"})
	p := testenv.NewPKCE()
	good := g.AuthParams(testenv.PublicClient, "http://127.0.0.1/callback", g.Resource(testenv.FilesPath), p)
	f.Add(good.Encode())
	bad := g.AuthParams(testenv.PublicClient, "http://127.0.0.1:9/callback", g.Resource(testenv.FilesPath), p)
	bad.Set("code_challenge_method", "plain")
	f.Add(bad.Encode())
	f.Add("client_id=test-public&redirect_uri=https://evil.example/cb&response_type=token")
	f.Add("client_id=https%3A%2F%2F10.0.0.1%2Fc.json&redirect_uri=x")
	f.Add("client_id=test-conf&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&resource=%00&scope=%22")
	registered := map[string][]string{}
	for _, c := range g.Config.Clients {
		registered[c.ClientID] = c.RedirectURIs
	}
	handler := g.Server.Handler()
	n := 0
	f.Fuzz(func(t *testing.T, query string) {
		n++
		req := httptest.NewRequest(http.MethodGet, "/oauth/authorize", nil)
		req.URL.RawQuery = query
		req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", n>>16&255, n>>8&255, n&255) // spread the per-IP limit
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("500 for %q:\n%s", query, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "goroutine ") || strings.Contains(rec.Body.String(), "storage:") {
			t.Fatalf("internals in the body for %q:\n%s", query, rec.Body)
		}
		loc := rec.Header().Get("Location")
		if loc == "" {
			return
		}
		if strings.HasPrefix(loc, g.URL+"/oauth/consent?") {
			return
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatalf("redirected to %q for an unparsable query %q", loc, query)
		}
		target := q.Get("redirect_uri")
		regs := registered[q.Get("client_id")]
		if target == "" && len(regs) == 1 {
			target = regs[0]
		}
		matched, ok := clientmeta.MatchRedirectURI(regs, target)
		if !ok || !(strings.HasPrefix(loc, matched+"?") || strings.HasPrefix(loc, matched+"&")) {
			t.Fatalf("redirected to %q, not a redirect URI registered for client %q", loc, q.Get("client_id"))
		}
		lq, err := url.Parse(loc)
		if err != nil || lq.Query().Get("iss") != g.URL {
			t.Fatalf("redirect %q without iss=%s", loc, g.URL)
		}
	})
}
