package oauth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/testenv"
)

// Over https (an https public_url, as every production deployment has) the
// session and flow cookies carry the __Host- prefix with Secure, Path=/ and
// no Domain (SPEC SE-1): a sibling subdomain cannot plant or overwrite
// them, and they never travel over plain http. The whole flow works with
// them: authorize, consent, login, code exchange and refresh.
func TestFlowOverHTTPSUsesHostPrefixedCookies(t *testing.T) {
	g := testenv.New(t, testenv.Options{TLS: true})
	if !strings.HasPrefix(g.URL, "https://") {
		t.Fatalf("public_url %q is not https", g.URL)
	}
	b := g.NewBrowser()
	var setCookies []string
	b.Client.Transport = recordCookies{next: b.Client.Transport, seen: &setCookies}

	tok := g.Login(b, testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)
	status, body := g.Refresh(testenv.PublicClient, "", tok["refresh_token"].(string), nil)
	if status != http.StatusOK {
		t.Fatalf("refresh over https: %d %v", status, body)
	}

	for _, name := range []string{"__Host-mcpgate_session", "__Host-mcpgate_flow"} {
		c := findSetCookie(setCookies, name)
		if c == nil {
			t.Fatalf("no %s cookie was set; got %q", name, setCookies)
		}
		if !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s: Secure=%v HttpOnly=%v Path=%q Domain=%q SameSite=%v; want Secure, HttpOnly, Path=/, no Domain, Lax",
				name, c.Secure, c.HttpOnly, c.Path, c.Domain, c.SameSite)
		}
	}
	for _, plain := range []string{"mcpgate_session", "mcpgate_flow"} {
		if findSetCookie(setCookies, plain) != nil {
			t.Errorf("unprefixed cookie %s set over https", plain)
		}
	}
}

type recordCookies struct {
	next http.RoundTripper
	seen *[]string
}

func (rc recordCookies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rc.next.RoundTrip(r)
	if err == nil {
		*rc.seen = append(*rc.seen, resp.Header.Values("Set-Cookie")...)
	}
	return resp, err
}

func findSetCookie(lines []string, name string) *http.Cookie {
	for _, line := range lines {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name && c.MaxAge >= 0 {
			return c
		}
	}
	return nil
}
