package e2e

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/fakeoidc"
)

// webBrowser is a user agent for a login that leaves the gateway: one
// cookie jar for the gateway and the IdP, every redirect seen, HTML forms
// read from the page as a browser would.
type webBrowser struct {
	t  *testing.T
	hc *http.Client
	g  *testenv.Gateway
}

func newWebBrowser(t *testing.T, g *testenv.Gateway, transport http.RoundTripper) *webBrowser {
	jar, _ := cookiejar.New(nil)
	return &webBrowser{t: t, g: g, hc: &http.Client{Jar: jar, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *webBrowser) do(method, target string, form url.Values, origin string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(page)
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	attrRE  = regexp.MustCompile(`(?i)\b(action|method|name|value|type)\s*=\s*"([^"]*)"`)
	inputRE = regexp.MustCompile(`(?i)<input\b[^>]*>`)
)

// attrs reads the double-quoted attributes of a tag.
func attrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(tag, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

// submitLogin fills the first POST form of page (the IdP's login page):
// its hidden inputs as they are, username and password as given.
func (b *webBrowser) submitLogin(pageURL *url.URL, page, username, password string) *http.Response {
	b.t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(page, -1) {
		fa := attrs(f[1])
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		form := url.Values{}
		for _, in := range inputRE.FindAllString(f[2], -1) {
			a := attrs(in)
			switch {
			case a["name"] == "":
			case strings.EqualFold(a["type"], "password"):
				form.Set(a["name"], password)
			case strings.EqualFold(a["type"], "hidden"):
				form.Set(a["name"], a["value"])
			default:
				form.Set(a["name"], username)
			}
		}
		action, err := pageURL.Parse(fa["action"])
		if err != nil {
			b.t.Fatal(err)
		}
		resp, _ := b.do(http.MethodPost, action.String(), form, pageURL.Scheme+"://"+pageURL.Host)
		return resp
	}
	b.t.Fatalf("no POST form on %s:\n%s", pageURL, page)
	return nil
}

// login runs the whole browser side of an authorization for a public
// client: the gateway's consent (approve) and chooser (provider), then the
// IdP (its login form, when it shows one), and back through the gateway's
// callback to the client. It returns the code.
func (b *webBrowser) login(params url.Values, provider, username, password string) string {
	b.t.Helper()
	resp, _ := b.do(http.MethodGet, b.g.URL+"/oauth/authorize?"+params.Encode(), nil, "")
	for range 12 {
		loc, err := resp.Location()
		if err != nil {
			b.t.Fatalf("flow stopped with %d at %s", resp.StatusCode, resp.Request.URL)
		}
		if strings.HasPrefix(loc.String(), redirectURL) {
			if loc.Query().Get("code") == "" {
				b.t.Fatalf("back at the client without a code: %s", loc)
			}
			return loc.Query().Get("code")
		}
		next, page := b.do(http.MethodGet, loc.String(), nil, "")
		onGateway := strings.HasPrefix(loc.String(), b.g.URL+"/")
		switch {
		case next.StatusCode != http.StatusOK:
			resp = next
		case onGateway && loc.Path == "/oauth/consent":
			resp, _ = b.do(http.MethodPost, b.g.URL+"/oauth/consent",
				url.Values{"req": {loc.Query().Get("req")}, "action": {"approve"}}, b.g.URL)
		case onGateway && loc.Path == "/oauth/login":
			if !strings.Contains(page, "provider="+provider) {
				b.t.Fatalf("the chooser does not offer %s:\n%s", provider, page)
			}
			resp, _ = b.do(http.MethodGet, b.g.URL+"/oauth/login?"+url.Values{"req": {loc.Query().Get("req")}, "provider": {provider}}.Encode(), nil, "")
		case onGateway:
			b.t.Fatalf("the gateway answered %s with a page:\n%s", loc, page)
		default:
			resp = b.submitLogin(loc, page, username, password)
		}
	}
	b.t.Fatal("too many hops")
	return ""
}

// accessToken logs in through provider and redeems the code for the
// files upstream.
func (b *webBrowser) accessToken(provider, username, password string) string {
	b.t.Helper()
	p := testenv.NewPKCE()
	code := b.login(b.g.AuthParams(testenv.PublicClient, redirectURL, b.g.Resource(testenv.FilesPath), p), provider, username, password)
	status, body := b.g.ExchangeCode(testenv.PublicClient, "", code, redirectURL, p)
	tok, _ := body["access_token"].(string)
	if status != http.StatusOK || tok == "" {
		b.t.Fatalf("code exchange: %d %v", status, body)
	}
	return tok
}

// connectAs opens an MCP session on the files upstream with token.
func connectAs(t *testing.T, g *testenv.Gateway, token string) *mcp.ClientSession {
	t.Helper()
	hc := &http.Client{Transport: testenv.BearerTransport(token, g.HTTP.Client().Transport)}
	mc := mcp.NewClient(&mcp.Implementation{Name: "mcpgate-e2e", Version: "1"}, nil)
	cs, err := mc.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: g.Resource(testenv.FilesPath), HTTPClient: hc}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// callErr calls tool and returns its failure, or nil when it answered.
func callErr(cs *mcp.ClientSession, tool string, args map[string]any) error {
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err == nil && res.IsError {
		return io.ErrUnexpectedEOF // any non-nil: the tool itself failed
	}
	return err
}

// identityHeaders makes the files upstream receive the caller's identity
// in the headers the demo upstream's whoami shows.
func identityHeaders(c *config.Config) {
	c.Upstreams[0].IdentityHeaders = config.IdentityHeaders{
		Subject: demoupstream.SubjectHeader, Email: demoupstream.EmailHeader, Groups: demoupstream.GroupsHeader}
}

// TestOIDCProviderPolicyThroughProxy (SPEC ID-6): a tool rule naming a
// provider admits that provider's users and refuses another's, and a
// group that only the OIDC provider's groups claim carries admits its
// member, with the identity (namespaced subject, verified email, groups)
// reaching the upstream.
func TestOIDCProviderPolicyThroughProxy(t *testing.T) {
	op := fakeoidc.NewHTTP(t)
	op.Set(func(op *fakeoidc.OP) { op.User.Groups = []string{"sso-ops"} })
	g := newGateway(t, false, func(c *config.Config) {
		// Configured like any deployment: login.Build makes the connector.
		c.IdentityProviders = append(c.IdentityProviders, config.IdentityProvider{ID: "corp", Type: "oidc",
			Issuer: op.Issuer, ClientID: fakeoidc.ClientID, ClientSecret: fakeoidc.ClientSecret})
		identityHeaders(c)
		c.Upstreams[0].Tools = append(c.Upstreams[0].Tools,
			config.ToolRule{Match: "echo", Providers: []string{"corp"}},
			config.ToolRule{Match: "add", Groups: []string{"sso-ops"}})
	})

	corp := connectAs(t, g, newWebBrowser(t, g, op.Client().Transport).accessToken("corp", "", ""))
	echo(t, corp, "from corp")
	if err := callErr(corp, "add", map[string]any{"a": 1, "b": 2}); err != nil {
		t.Fatalf("add for a member of sso-ops (from the groups claim): %v", err)
	}
	who := callText(t, corp, "whoami")
	for _, want := range []string{"corp:user-1", "carol@idp.test", "sso-ops"} {
		if !strings.Contains(who, want) {
			t.Fatalf("whoami lacks %q:\n%s", want, who)
		}
	}

	local := connectAs(t, g, newWebBrowser(t, g, nil).localToken(testenv.Alice))
	if err := callErr(local, "echo", map[string]any{"text": "x"}); err == nil {
		t.Fatal("a local user called a tool only corp's users may call")
	}
	if err := callErr(local, "add", map[string]any{"a": 1, "b": 2}); err == nil {
		t.Fatal("a local user outside sso-ops called add")
	}
	denied := g.AuditEvents("tool_call_denied")
	if len(denied) != 2 || denied[0].User != "local:alice" {
		t.Fatalf("denied calls audited: %+v", denied)
	}
}

// localToken logs username in with the local provider's form.
func (b *webBrowser) localToken(username string) string {
	b.t.Helper()
	p := testenv.NewPKCE()
	params := b.g.AuthParams(testenv.PublicClient, redirectURL, b.g.Resource(testenv.FilesPath), p)
	resp, _ := b.do(http.MethodGet, b.g.URL+"/oauth/authorize?"+params.Encode(), nil, "")
	loc, _ := resp.Location()
	if approved, _ := b.do(http.MethodPost, b.g.URL+"/oauth/consent", url.Values{"req": {loc.Query().Get("req")}, "action": {"approve"}}, b.g.URL); approved.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("consent answered %d", approved.StatusCode)
	}
	resp, _ = b.do(http.MethodPost, b.g.URL+"/oauth/login", url.Values{"req": {loc.Query().Get("req")}, "provider": {"local"},
		"username": {username}, "password": {testenv.Password}}, b.g.URL)
	back, err := resp.Location()
	if err != nil || back.Query().Get("code") == "" {
		b.t.Fatalf("local login ended at %v (%d)", back, resp.StatusCode)
	}
	status, body := b.g.ExchangeCode(testenv.PublicClient, "", back.Query().Get("code"), redirectURL, p)
	if status != http.StatusOK {
		b.t.Fatalf("code exchange: %d %v", status, body)
	}
	return body["access_token"].(string)
}
